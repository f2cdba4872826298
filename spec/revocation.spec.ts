import { accessCookie, createApp, describeEachStore, login, request } from "./helpers";

const POLL_LAG_MS = 2000;

describeEachStore("revocation reaches access tokens", (stores) => {
  function twoInstances() {
    const [storeA, storeB] = stores.pair();
    return [createApp({ store: storeA }), createApp({ store: storeB })] as const;
  }


  it("refuses a revoked session's access token on the revoking instance at once, and on the other within the poll lag", async () => {
    const [a, b] = twoInstances();
    const { access, handle } = await login(a.app, "user-1");
    await request(b.app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);

    expect(await a.sessions.revokeSession(handle)).toBe(true);
    const here = await request(a.app).get("/api/me").set("Cookie", accessCookie(access)).expect(401);
    expect(here.body).toEqual({ message: "unauthorised" });

    await new Promise((resolve) => setTimeout(resolve, POLL_LAG_MS + 700));
    const there = await request(b.app).get("/api/me").set("Cookie", accessCookie(access)).expect(401);
    expect(there.body).toEqual({ message: "unauthorised" });
    await a.sessions.close();
    await b.sessions.close();
  });

  it("refuses at once on any instance with checkDatabase: true", async () => {
    const [a, b] = twoInstances();
    const { access, handle } = await login(a.app, "user-1");
    await a.sessions.revokeSession(handle);
    const res = await request(b.app).get("/api/strict").set("Cookie", accessCookie(access)).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    // Having read the revoked row, that instance now refuses the token on every route.
    await request(b.app).get("/api/me").set("Cookie", accessCookie(access)).expect(401);
  });

  it("revokes every session of a user ('sign out everywhere')", async () => {
    const { app, sessions, events } = createApp({ store: stores.create() });
    const laptop = await login(app, "user-1");
    const phone = await login(app, "user-1");
    const other = await login(app, "user-2");
    const revoked = await sessions.revokeAllSessionsForUser("user-1");
    expect(revoked.sort()).toEqual([laptop.handle, phone.handle].sort());
    await request(app).get("/api/me").set("Cookie", accessCookie(laptop.access)).expect(401);
    await request(app).get("/api/me").set("Cookie", accessCookie(phone.access)).expect(401);
    await request(app).get("/api/me").set("Cookie", accessCookie(other.access)).expect(200);
    expect(events.revoked.map((event) => event.reason)).toEqual(["revoke-all", "revoke-all"]);
    expect(await sessions.revokeAllSessionsForUser("user-1")).toEqual([]);
  });

  it("pages through a burst of more than 10,000 revocations", async () => {
    const [storeA, storeB] = stores.pair();
    const a = createApp({ store: storeA });
    const b = createApp({ store: storeB });
    const { access, handle } = await login(a.app, "user-1");
    await request(b.app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    const at = Date.now() - 1000;
    for (let i = 0; i < 10_050; i += 1000) {
      await Promise.all(
        Array.from({ length: Math.min(1000, 10_050 - i) }, (_, j) =>
          storeA.createSession({
            handle: `00000000-0000-4000-8000-${String(i + j).padStart(12, "0")}`,
            userId: "burst",
            refreshTokenHash: Buffer.alloc(32, 2),
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
            createdAt: at - 1000,
            authTime: at - 1000,
            lastRefreshedAt: at - 1000,
            expiresAt: at + 3_600_000,
            absoluteExpiresAt: at + 3_600_000,
            revokedAt: at + (i + j) / 100,
            ip: null,
            userAgent: null,
          }),
        ),
      );
    }
    await a.sessions.revokeSession(handle);
    await new Promise((resolve) => setTimeout(resolve, POLL_LAG_MS + 1500));
    await request(b.app).get("/api/me").set("Cookie", accessCookie(access)).expect(401);
  });
});
