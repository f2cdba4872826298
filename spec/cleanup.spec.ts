import type { SessionRecord } from "../lib";
import { createApp, describeEachStore, fakeClock, login, request } from "./helpers";

function expiredRow(handle: string, at: number): SessionRecord {
  return {
    handle,
    userId: "gone",
    refreshTokenHash: Buffer.alloc(32, 7),
    prevRefreshTokenHash: null,
    rotatedAt: null,
    lineageHash: null,
    undelivered: false,
    idleTtl: null,
    persistent: true,
    lastIp: null,
    lastUserAgent: null,
    accessTokenPayload: {},
    sessionData: {},
    createdAt: at - 60_000,
    authTime: at - 60_000,
    lastRefreshedAt: at - 60_000,
    expiresAt: at - 1,
    absoluteExpiresAt: at - 1,
    revokedAt: null,
    ip: null,
    userAgent: null,
  };
}

describeEachStore("cleanup of expired sessions and retired keys", (stores) => {
  it("runs on an unref'd interval and never deletes a live session", async () => {
    const store = stores.create();
    const { app } = createApp({ store, cleanupInterval: "300ms" });
    const live = await login(app, "keeper");
    await store.createSession(expiredRow("00000000-0000-4000-8000-000000000001", Date.now()));
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(await store.findSession("00000000-0000-4000-8000-000000000001")).toBeNull();
    expect(await store.findSession(live.handle)).not.toBeNull();
  });

  it("deletes on demand in batches, and removes keys only after they can verify nothing", async () => {
    const clock = fakeClock();
    const store = stores.create();
    const { app, sessions, events } = createApp({ store, clock: clock.now, keyRotationInterval: "1h", accessTokenTtl: "15m", cleanupInterval: false });
    await login(app);
    for (let i = 0; i < 7; i++) await store.createSession(expiredRow(`00000000-0000-4000-8000-00000000000${i}`, clock.now()));
    await sessions.revokeSession("00000000-0000-4000-8000-000000000000");
    events.revoked.length = 0;
    const progress: number[] = [];
    expect(await sessions.cleanup({ batchSize: 3, onProgress: (n) => progress.push(n) })).toEqual({ sessions: 7, keys: 0 });
    expect(progress).toEqual([3, 6, 7]);
    // onRevoked "expiry" for the six that simply ran out; the revoked one had its event.
    expect(events.revoked.map((event) => [event.reason, event.userId])).toEqual(Array(6).fill(["expiry", "gone"]));

    // The first key stops signing within the hour and verifies for 30 minutes more.
    clock.advance(75 * 60_000);
    await login(app); // loads the next slot's key
    expect((await sessions.cleanup()).keys).toBe(0);
    clock.advance(30 * 60_000);
    expect((await sessions.cleanup()).keys).toBe(1);
    expect((await request(app).get("/auth/jwt/jwks.json").expect(200)).body.keys).toHaveLength(1);
  });
});
