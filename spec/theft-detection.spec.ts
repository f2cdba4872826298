import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { SessionStore } from "../lib";
import {
  accessCookie,
  createApp,
  describeEachStore,
  expectCleared,
  fakeClock,
  login,
  refreshCookie,
  request,
  tokensOf,
  type TestApp,
} from "./helpers";

const REFRESH = "/auth/session/refresh";
const VICTIM_UA = "Firefox/140 (victim)";
const THIEF_UA = "curl/8.5 (thief)";

describeEachStore("refresh-token theft detection", (stores) => {
  let clock: ReturnType<typeof fakeClock>;
  let fixture: TestApp;
  // The MySQL store stamps rotations on the database's clock, which runs on in real time while
  // the spec's clock stands still: a few milliseconds apart there, exact on the memory store.
  const stamped = (ms: number): unknown => (stores.kind === "mysql" ? expect.closeTo(ms, -3) : ms);

  beforeEach(() => {
    clock = fakeClock();
    fixture = createApp({ store: stores.create(), clock: clock.now, refreshGrace: "10s" });
  });

  /** One refresh as a given client; resolves to the new tokens (or the refusal). */
  const refreshAs = (token: string, userAgent: string) =>
    request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token)).set("User-Agent", userAgent);

  /** The thief copies the victim's refresh token and rotates it `times` times; resolves to the thief's tokens. */
  async function thiefRefreshes(stolen: string, times: number) {
    let tokens = { access: "", refresh: stolen };
    for (let i = 0; i < times; i++) {
      clock.advance(1000);
      tokens = tokensOf(await refreshAs(tokens.refresh, THIEF_UA).expect(200));
    }
    return tokens;
  }

  // One refresh back and still inside the window is an honest race (a second tab): the
  // victim gets the thief's current token again. Any older token, or one presented after
  // the window, is theft.
  const SCENARIOS = [1, 2, 5].flatMap((times) => [
    [times, 0, times === 1 ? "earns the same successor (an honest race)" : "ends the session for both"] as const,
    [times, 60_000, "ends the session for both"] as const,
  ]);
  describe.each(SCENARIOS)("after the thief refreshed %d time(s), the victim coming back %d ms later", (times, wait, outcome) => {
    it(outcome, async () => {
      const victim = await login(fixture.app, "victim", {});
      const thief = await thiefRefreshes(victim.refresh, times);
      clock.advance(wait);

      const res = await refreshAs(victim.refresh, VICTIM_UA);

      if (times === 1 && wait === 0) {
        expect(res.status).toBe(200);
        expect(tokensOf(res).refresh).toBe(thief.refresh);
        expect(fixture.events.theft).toEqual([]);
        return;
      }
      expect([res.status, res.body]).toEqual([401, { message: "token theft detected" }]);
      expect(res.headers["front-token"]).toBe("remove");
      expectCleared(res, "sAccessToken", "/");
      expectCleared(res, "sRefreshToken", REFRESH);
      expect(fixture.events.theft).toEqual([
        {
          handle: victim.handle,
          userId: "victim",
          ip: expect.any(String),
          userAgent: null, // the login sent none
          clientIp: expect.any(String),
          clientUserAgent: VICTIM_UA,
          at: clock.now(),
          // Issue 22: who holds the session now, and how long ago the presented token was replaced.
          holderIp: expect.any(String),
          holderUserAgent: THIEF_UA,
          supersededAt: stamped(clock.now() - wait),
          replayed: times === 1 ? "previous" : "older",
        },
      ]);
      expect(fixture.events.revoked).toEqual([expect.objectContaining({ handle: victim.handle, reason: "theft", clientUserAgent: VICTIM_UA })]);
      expect((await fixture.sessions.getSessionInformation(victim.handle))?.revokedAt).toBe(clock.now());

      // The thief's tokens die with the session: the refresh token everywhere at once,
      // the access token at once on this instance.
      const next = await refreshAs(thief.refresh, THIEF_UA).expect(401);
      expect(next.body).toEqual({ message: "unauthorised" });
      const me = await request(fixture.app).get("/api/me").set("Cookie", accessCookie(thief.access)).expect(401);
      expect(me.body).toEqual({ message: "unauthorised" });
    });
  });

  it("detects the thief's reuse when the victim refreshed first, however many times", async () => {
    const victim = await login(fixture.app, "victim");
    const stolen = victim.refresh;
    let refresh = stolen;
    for (let i = 0; i < 3; i++) {
      clock.advance(900_000);
      refresh = tokensOf(await refreshAs(refresh, VICTIM_UA).expect(200)).refresh;
    }
    const res = await refreshAs(stolen, THIEF_UA).expect(401);
    expect(res.body).toEqual({ message: "token theft detected" });
    expect(fixture.events.theft).toEqual([expect.objectContaining({ handle: victim.handle, clientUserAgent: THIEF_UA })]);
    await refreshAs(refresh, VICTIM_UA).expect(401);
  });

  it("never revokes for a guess: a random secret for a known handle, or another session's lineage, is refused and changes nothing", async () => {
    const victim = await login(fixture.app, "victim");
    const other = await login(fixture.app, "other");
    const [handle, lineage] = victim.refresh.split(".") as [string, string, string];
    const guesses = [
      `${handle}.${randomBytes(16).toString("base64url")}.${randomBytes(32).toString("base64url")}`, // random lineage and secret
      `${handle}.${other.refresh.split(".").slice(1).join(".")}`, // another session's lineage and secret
      `${handle}.${randomBytes(32).toString("base64url")}`, // the 0.1 shape
    ];
    for (const guess of guesses) {
      const res = await refreshAs(guess, THIEF_UA).expect(401);
      expect(res.body).toEqual({ message: "unauthorised" });
    }
    expect(lineage).toHaveLength(22);
    expect(fixture.events.theft).toEqual([]);
    expect((await fixture.sessions.getSessionInformation(victim.handle))?.revokedAt).toBeNull();
    await refreshAs(victim.refresh, VICTIM_UA).expect(200);
  });

  it("takes the session's lineage with any other secret for theft: only a holder of one of its tokens knows it", async () => {
    const victim = await login(fixture.app, "victim");
    const [handle, lineage] = victim.refresh.split(".") as [string, string];
    const res = await refreshAs(`${handle}.${lineage}.${randomBytes(32).toString("base64url")}`, THIEF_UA).expect(401);
    expect(res.body).toEqual({ message: "token theft detected" });
    expect(fixture.events.theft).toHaveLength(1);
  });

  it("fires onRefused for refused refresh tokens, naming the client and never the token", async () => {
    const refused: unknown[] = [];
    const app = createApp({ store: stores.create(), clock: clock.now, onRefused: (event) => void refused.push(event) }).app;
    const { handle } = await login(app, "victim");
    const guess = `${handle}.${randomBytes(16).toString("base64url")}.${randomBytes(32).toString("base64url")}`;
    await request(app).post(REFRESH).set("Cookie", refreshCookie(guess)).set("User-Agent", THIEF_UA).expect(401);
    expect(refused).toEqual([
      {
        kind: "refresh",
        code: "UNAUTHORISED",
        reason: "refresh token does not match",
        method: "POST",
        path: REFRESH,
        clientIp: expect.any(String),
        clientUserAgent: THIEF_UA,
        at: clock.now(),
      },
    ]);
    expect(JSON.stringify(refused)).not.toContain(guess.split(".")[2]);
  });

  it("keeps a hook that throws or never settles from breaking the response", async () => {
    const { app } = createApp({
      store: stores.create(),
      clock: clock.now,
      onTheftDetected: () => {
        throw new Error("audit sink down");
      },
      onRevoked: () => new Promise(() => {}),
    });
    const { refresh } = await login(app);
    await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200);
    clock.advance(60_000);
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(401);
    expect(res.body).toEqual({ message: "token theft detected" });
  });
});

describeEachStore("what theft detection logs", (stores) => {
  // The MySQL store stamps rotations on the database's clock, which runs on in real time while
  // the spec's clock stands still: a few milliseconds apart there, exact on the memory store.
  const stamped = (ms: number): unknown => (stores.kind === "mysql" ? expect.closeTo(ms, -3) : ms);
  it("#53/#95 theft is logged as one line naming the handle, with no token, and client text cannot forge log lines", async () => {
    const lines: string[] = [];
    const logger = { warn: (message: string) => lines.push(message), error: (message: string) => lines.push(message) };
    const clock = fakeClock();
    const { app, events } = createApp({ store: stores.create(), clock: clock.now, logger });
    const userId = 'u1\n{"event":"theft_detected","userId":"admin"}\r\n';
    const stolen = await login(app, userId);
    const rotated = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(stolen.refresh)).expect(200));
    clock.advance(60_000);
    await request(app).post(REFRESH).set("Cookie", refreshCookie(stolen.refresh)).expect(401);

    const theft = lines.filter((line) => line.includes("reuse"));
    expect(theft).toEqual([expect.stringContaining(stolen.handle)]);
    for (const line of lines) {
      expect(line).not.toMatch(/[\r\n]/);
      for (const secret of [stolen.refresh, stolen.access, rotated.refresh, rotated.access, ...stolen.refresh.split(".").slice(1)]) {
        expect(line.includes(secret)).toBe(false);
      }
    }
    // The hook gets the user id as a field, unaltered, for a structured logger to escape.
    expect(events.theft).toEqual([
      {
        handle: stolen.handle,
        userId,
        ip: expect.any(String),
        userAgent: null,
        clientIp: expect.any(String),
        clientUserAgent: null,
        at: clock.now(),
        holderIp: expect.any(String),
        holderUserAgent: null,
        supersededAt: stamped(clock.now() - 60_000),
        replayed: "previous",
      },
    ]);
    for (const part of stolen.refresh.split(".").slice(1)) expect(JSON.stringify(events.theft)).not.toContain(part);
  });
});

// Issue 19, LG1: a session created by 0.1 has `<handle>.<secret>` tokens and no lineage;
// its first rotation under 0.2 derives one from the presented token. The 0.1 token must
// stay recognisable as an ancestor however many rotations later.
describeEachStore("refresh-token theft detection for sessions created by 0.1", (stores) => {
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);

  async function legacySession(store: SessionStore): Promise<{ handle: string; token: string }> {
    const handle = randomUUID();
    const token = `${handle}.${randomBytes(32).toString("base64url")}`; // the 0.1 shape
    await store.createSession({
      handle,
      userId: "victim",
      refreshTokenHash: createHash("sha256").update(token).digest(),
      prevRefreshTokenHash: null,
      lineageHash: null, // 0.1 kept none
      rotatedAt: null,
      undelivered: false,
      accessTokenPayload: {},
      sessionData: {},
      createdAt: now,
      lastRefreshedAt: now,
      authTime: now,
      expiresAt: now + 30 * 86_400_000,
      absoluteExpiresAt: now + 180 * 86_400_000,
      idleTtl: null,
      persistent: true,
      revokedAt: null,
      ip: null,
      userAgent: null,
      lastIp: null,
      lastUserAgent: null,
    });
    return { handle, token };
  }

  it.each([2, 3])("takes the 0.1 token for theft after the thief refreshed it %d times: session revoked, onTheftDetected", async (times) => {
    const clock = fakeClock(now);
    const store = stores.create();
    const fixture = createApp({ store, clock: clock.now, refreshGrace: "10s" });
    await fixture.sessions.ready();
    const { handle, token } = await legacySession(store);
    let refresh = token;
    for (let i = 0; i < times; i++) {
      clock.advance(1000);
      refresh = tokensOf(await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(refresh)).set("User-Agent", THIEF_UA).expect(200)).refresh;
    }
    const res = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token)).set("User-Agent", VICTIM_UA).expect(401);
    expect(res.body).toEqual({ message: "token theft detected" });
    expect(fixture.events.theft).toEqual([expect.objectContaining({ handle, userId: "victim", clientUserAgent: VICTIM_UA })]);
    expect((await fixture.sessions.getSessionInformation(handle))?.revokedAt).toBe(clock.now());
    await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(401);
  });

  it("still takes a made-up token in the 0.1 shape for a guess once the session has a lineage", async () => {
    const clock = fakeClock(now);
    const store = stores.create();
    const fixture = createApp({ store, clock: clock.now });
    await fixture.sessions.ready();
    const { handle, token } = await legacySession(store);
    const first = tokensOf(await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token)).expect(200)).refresh;
    clock.advance(1000);
    await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(first)).expect(200);
    const guess = `${handle}.${randomBytes(32).toString("base64url")}`;
    const res = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(guess)).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    expect(fixture.events.theft).toEqual([]);
  });
});
