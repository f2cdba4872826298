// Issue #14, items 1 and 2 (DESIGN §6.4): maxSessionsPerUser evicts the least recently
// refreshed sessions in the login's own transaction, and per-login lifetimes
// (`rememberMe: false`, `sessionTtl: { idle, absolute }`) live on the row, so that every
// refresh — on any instance, over HTTP or without a request — honours them.
import type { Response as TestResponse } from "supertest";
import mysql from "mysql2/promise";
import { errorHandler, verifySession, type SessionMiddlewareOptions } from "../lib";
import {
  accessCookie,
  countingStore,
  createApp,
  DATABASE_URL,
  decodeFrontToken,
  decodeJwtPart,
  describeEachStore,
  expectCookie,
  fakeClock,
  login,
  refreshCookie,
  request,
  setCookies,
  tokensOf,
  UNAUTHORISED,
  type TestApp,
} from "./helpers";

const REFRESH = "/auth/session/refresh";
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** The documented idle lifetime of a `rememberMe: false` session without a `sessionTtl.idle`. */
const BROWSER_SESSION_IDLE = 12 * HOUR;

/**
 * The fixture app, plus `POST /login/with` passing `req.body.options` to `res.createSession`
 * as they are, and `POST /api/merge` re-signing the access token (a payload change).
 */
function lifetimeApp(options: SessionMiddlewareOptions): TestApp {
  const fixture = createApp(options);
  fixture.app.post("/login/with", async (req, res, next) => {
    try {
      const session = await res.createSession(req.body.userId, req.body.options ?? {});
      res.json({ handle: session.handle });
    } catch (error) {
      if (error instanceof TypeError) return void res.status(400).json({ message: error.message });
      next(error);
    }
  });
  fixture.app.post("/api/merge", verifySession(), async (req, res, next) => {
    try {
      await req.session!.mergeIntoAccessTokenPayload(req.body.update);
      res.json({ ok: true });
    } catch (error) {
      next(error);
    }
  });
  fixture.app.use(errorHandler());
  return fixture;
}

async function loginWith(app: TestApp["app"], userId: string, options: Record<string, unknown>, userAgent?: string) {
  let call = request(app).post("/login/with");
  if (userAgent) call = call.set("User-Agent", userAgent);
  const res = await call.send({ userId, options }).expect(200);
  return { res, handle: res.body.handle as string, ...tokensOf(res) };
}

function refresh(app: TestApp["app"], token: string, userAgent?: string) {
  const call = request(app).post(REFRESH).set("Cookie", refreshCookie(token));
  return userAgent ? call.set("User-Agent", userAgent) : call;
}

/** The Expires attribute of a Set-Cookie, in ms since the epoch (HTTP dates have whole seconds). */
function cookieExpiry(res: TestResponse, name: string): number {
  const expires = setCookies(res).get(name)?.attributes.expires;
  expect(typeof expires).toBe("string");
  return new Date(expires as string).getTime();
}

const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

/** Both token cookies end with the browser session: no Expires, no Max-Age. */
function expectBrowserSessionCookies(res: TestResponse): void {
  expectCookie(res, "sAccessToken", { path: "/", httponly: true, samesite: "Lax", expires: undefined, "max-age": undefined });
  expectCookie(res, "sRefreshToken", { path: REFRESH, httponly: true, samesite: "Lax", expires: undefined, "max-age": undefined });
}

/** Both token cookies persist until the session's idle expiry. */
function expectPersistentCookies(res: TestResponse, expiresAt: number): void {
  expectCookie(res, "sAccessToken", { path: "/", httponly: true, "max-age": undefined });
  expectCookie(res, "sRefreshToken", { path: REFRESH, httponly: true, "max-age": undefined });
  expect(cookieExpiry(res, "sAccessToken")).toBe(seconds(expiresAt));
  expect(cookieExpiry(res, "sRefreshToken")).toBe(seconds(expiresAt));
}

describeEachStore("maxSessionsPerUser", (stores) => {
  let clock: ReturnType<typeof fakeClock>;

  beforeEach(() => {
    clock = fakeClock();
  });

  it("evicts the least recently refreshed session (reason evicted, onRevoked fired) when a login goes over the limit", async () => {
    const fixture = lifetimeApp({ store: stores.create(), clock: clock.now, maxSessionsPerUser: 3 });
    const { app, sessions, events } = fixture;
    const t0 = clock.now();
    const a = await loginWith(app, "alice", {}, "UA-a");
    clock.advance(MINUTE);
    const b = await loginWith(app, "alice", {}, "UA-b");
    clock.advance(MINUTE);
    const c = await loginWith(app, "alice", {}, "UA-c");
    clock.advance(MINUTE);
    // a is the oldest login, but refreshed now: b is the least recently refreshed.
    const aRefreshed = tokensOf(await refresh(app, a.refresh, "UA-a2").expect(200));
    expect(events.revoked).toEqual([]);
    const other = await loginWith(app, "bob", {}, "UA-bob");
    clock.advance(MINUTE);

    const d = await loginWith(app, "alice", {}, "UA-d");

    expect(events.revoked).toEqual([
      {
        handle: b.handle,
        userId: "alice",
        ip: expect.any(String),
        userAgent: "UA-b", // where it was created
        clientIp: expect.any(String),
        clientUserAgent: "UA-d", // the login that evicted it
        at: t0 + 4 * MINUTE,
        reason: "evicted",
      },
    ]);
    expect((await sessions.getSessionInformation(b.handle))?.revokedAt).toBe(t0 + 4 * MINUTE);
    expect((await sessions.getAllSessionHandlesForUser("alice")).sort()).toEqual([a.handle, c.handle, d.handle].sort());
    expect(await sessions.getAllSessionHandlesForUser("bob")).toEqual([other.handle]);
    // The evicted session is over everywhere on this instance: its access token at once, its refresh token too.
    const refused = await request(app).get("/api/me").set("Cookie", accessCookie(b.access)).expect(401);
    expect(refused.body).toEqual({ message: "unauthorised" });
    await request(app).get("/api/strict").set("Cookie", accessCookie(b.access)).expect(401);
    expect((await refresh(app, b.refresh).expect(401)).body).toEqual({ message: "unauthorised" });
    // The survivors are untouched.
    await request(app).get("/api/strict").set("Cookie", accessCookie(aRefreshed.access)).expect(200);
    await request(app).get("/api/strict").set("Cookie", accessCookie(c.access)).expect(200);
    await request(app).get("/api/strict").set("Cookie", accessCookie(d.access)).expect(200);
    expect(events.theft).toEqual([]);

    // Next: c (refreshed at its login, t0+2m) is now the least recently refreshed.
    clock.advance(MINUTE);
    await loginWith(app, "alice", {}, "UA-e");
    expect(events.revoked.map((event) => [event.handle, event.reason, event.clientUserAgent])).toEqual([
      [b.handle, "evicted", "UA-d"],
      [c.handle, "evicted", "UA-e"],
    ]);
    expect(events.created).toHaveLength(6);
    await sessions.close();
  });

  it("evicts several in one login, oldest refresh first, when the limit is lower than what is live (another instance's sessions)", async () => {
    const [storeA, storeB] = stores.pair();
    const unlimited = lifetimeApp({ store: storeA, clock: clock.now });
    const limited = lifetimeApp({ store: storeB, clock: clock.now, maxSessionsPerUser: 2 });
    // Created s1..s4 one minute apart; then s1 and s3 refreshed: by last refresh s2, s4, s1, s3.
    const s1 = await loginWith(unlimited.app, "carol", {}, "UA-1");
    clock.advance(MINUTE);
    const s2 = await loginWith(unlimited.app, "carol", {}, "UA-2");
    clock.advance(MINUTE);
    const s3 = await loginWith(unlimited.app, "carol", {}, "UA-3");
    clock.advance(MINUTE);
    const s4 = await loginWith(unlimited.app, "carol", {}, "UA-4");
    clock.advance(MINUTE);
    await refresh(unlimited.app, s1.refresh).expect(200);
    clock.advance(MINUTE);
    await refresh(unlimited.app, s3.refresh).expect(200);
    clock.advance(MINUTE);
    expect(unlimited.events.revoked).toEqual([]);

    const fresh = await loginWith(limited.app, "carol", {}, "UA-new");

    // 4 live + 1 new with a limit of 2: three go, in the order they were least recently refreshed.
    expect(limited.events.revoked).toEqual(
      [
        [s2, "UA-2"],
        [s4, "UA-4"],
        [s1, "UA-1"],
      ].map(([session, userAgent]) => ({
        handle: (session as typeof s1).handle,
        userId: "carol",
        ip: expect.any(String),
        userAgent,
        clientIp: expect.any(String),
        clientUserAgent: "UA-new",
        at: clock.now(),
        reason: "evicted",
      })),
    );
    expect((await limited.sessions.getAllSessionHandlesForUser("carol")).sort()).toEqual([s3.handle, fresh.handle].sort());
    for (const gone of [s1, s2, s4]) {
      expect((await limited.sessions.getSessionInformation(gone.handle))?.revokedAt).toBe(clock.now());
      await request(limited.app).get("/api/me").set("Cookie", accessCookie(gone.access)).expect(401);
    }
    await Promise.all([unlimited.sessions.close(), limited.sessions.close()]);
  });

  it("counts only live sessions: revoked and expired ones take no slot", async () => {
    const fixture = lifetimeApp({ store: stores.create(), clock: clock.now, maxSessionsPerUser: 2 });
    const { app, sessions, events } = fixture;
    const signedOut = await loginWith(app, "dave", {});
    const shortLived = await loginWith(app, "dave", { sessionTtl: { idle: "30m", absolute: "1h" } });
    expect(await sessions.revokeSession(signedOut.handle)).toBe(true);
    clock.advance(HOUR); // shortLived has ended by its own absolute lifetime
    const kept = await loginWith(app, "dave", {});
    const second = await loginWith(app, "dave", {});
    expect(events.revoked).toEqual([expect.objectContaining({ handle: signedOut.handle, reason: "admin" })]);
    expect((await sessions.getAllSessionHandlesForUser("dave")).sort()).toEqual([kept.handle, second.handle].sort());
    expect((await sessions.getSessionInformation(shortLived.handle))?.revokedAt).toBeNull();
    await sessions.close();
  });

  it("with a limit of 1, each login ends the previous one; a re-login from the same device ends its own session as re-login, evicting nothing", async () => {
    const fixture = lifetimeApp({ store: stores.create(), clock: clock.now, maxSessionsPerUser: 1 });
    const { app, sessions, events } = fixture;
    const laptop = await loginWith(app, "erin", {});
    clock.advance(1000);
    const phone = await loginWith(app, "erin", {});
    expect(events.revoked.map((event) => [event.handle, event.reason])).toEqual([[laptop.handle, "evicted"]]);

    clock.advance(1000);
    // The phone logs in again carrying its live session: that one ends as re-login first.
    const res = await request(app).post("/login/with").set("Cookie", accessCookie(phone.access)).send({ userId: "erin" }).expect(200);
    expect(events.revoked.map((event) => [event.handle, event.reason])).toEqual([
      [laptop.handle, "evicted"],
      [phone.handle, "re-login"],
    ]);
    expect(await sessions.getAllSessionHandlesForUser("erin")).toEqual([res.body.handle]);
    await sessions.close();
  });

  it("applies to createNewSessionWithoutRequestResponse too (no client on the event)", async () => {
    const fixture = lifetimeApp({ store: stores.create(), clock: clock.now, maxSessionsPerUser: 1 });
    const { app, sessions, events } = fixture;
    const http = await loginWith(app, "frank", {}, "UA-http");
    clock.advance(1000);
    const created = await sessions.createNewSessionWithoutRequestResponse("frank");
    expect(events.revoked).toEqual([
      { handle: http.handle, userId: "frank", ip: expect.any(String), userAgent: "UA-http", clientIp: null, clientUserAgent: null, at: clock.now(), reason: "evicted" },
    ]);
    expect(await sessions.getAllSessionHandlesForUser("frank")).toEqual([created.session.handle]);
    await sessions.close();
  });

  it("the eviction is part of the login's single store call", async () => {
    const counted = countingStore(stores.create());
    const fixture = lifetimeApp({ store: counted.store, clock: clock.now, maxSessionsPerUser: 1 });
    await fixture.sessions.ready();
    await loginWith(fixture.app, "gina", {});
    counted.calls.length = 0;
    await loginWith(fixture.app, "gina", {});
    expect(fixture.events.revoked.map((event) => event.reason)).toEqual(["evicted"]);
    // One createSession call does both; no separate revoke or update runs before or after it.
    expect(counted.calls.filter((call) => ["createSession", "updateSession", "revokeSessionsOfUser"].includes(call))).toEqual(["createSession"]);
    await fixture.sessions.close();
  });

  it("50 parallel logins of one user (on two instances) leave exactly the limit live, every other one evicted once, none lost, no 503", async () => {
    const LIMIT = 3;
    const LOGINS = 50;
    const [storeA, storeB] = stores.pair();
    const instances = [lifetimeApp({ store: storeA, maxSessionsPerUser: LIMIT }), lifetimeApp({ store: storeB, maxSessionsPerUser: LIMIT })];
    await Promise.all(instances.map((instance) => instance.sessions.ready()));

    const responses = await Promise.all(
      Array.from({ length: LOGINS }, (_, i) => request((instances[i % 2] as TestApp).app).post("/login").set("User-Agent", `UA-${i}`).send({ userId: "parallel" })),
    );

    expect(responses.map((res) => res.status)).toEqual(Array.from({ length: LOGINS }, () => 200));
    const handles = responses.map((res) => res.body.handle as string);
    expect(new Set(handles).size).toBe(LOGINS);
    const live = await (instances[0] as TestApp).sessions.getAllSessionHandlesForUser("parallel");
    expect(live).toHaveLength(LIMIT);
    const revoked = instances.flatMap((instance) => instance.events.revoked);
    expect(revoked.map((event) => event.reason)).toEqual(Array.from({ length: LOGINS - LIMIT }, () => "evicted"));
    const evicted = revoked.map((event) => event.handle);
    // Each eviction reported once, none of the live ones among them, and together every login accounted for.
    expect(new Set(evicted).size).toBe(LOGINS - LIMIT);
    expect(live.filter((handle) => evicted.includes(handle))).toEqual([]);
    expect([...live, ...evicted].sort()).toEqual([...handles].sort());
    for (const handle of evicted) {
      const info = await (instances[1] as TestApp).sessions.getSessionInformation(handle);
      expect([handle, info?.revokedAt === null]).toEqual([handle, false]);
    }
    expect(instances.flatMap((instance) => instance.events.created)).toHaveLength(LOGINS);
    await Promise.all(instances.map((instance) => instance.sessions.close()));
  }, 60_000);

  if (stores.kind === "mysql") {
    it("a login whose INSERT fails evicts nothing: the eviction rolls back with it (503, no cookie, no onRevoked)", async () => {
      const prefix = stores.newPrefix();
      const fixture = lifetimeApp({ store: stores.create(prefix), clock: clock.now, maxSessionsPerUser: 2 });
      await fixture.sessions.ready();
      const first = await loginWith(fixture.app, "henry", {});
      clock.advance(1000);
      const second = await loginWith(fixture.app, "henry", {});
      clock.advance(1000);
      const connection = await mysql.createConnection({ uri: DATABASE_URL });
      try {
        await connection.query(
          `CREATE TRIGGER \`${prefix}refuse_insert\` BEFORE INSERT ON \`${prefix}sessions\` FOR EACH ROW
           BEGIN IF NEW.user_agent = 'refuse-insert' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'insert refused by the test'; END IF; END`,
        );
      } finally {
        await connection.end();
      }

      const res = await request(fixture.app).post("/login/with").set("User-Agent", "refuse-insert").send({ userId: "henry" });

      expect([res.status, res.body]).toEqual([503, { message: "session store unavailable", code: "STORE_UNAVAILABLE" }]);
      expect(setCookies(res).size).toBe(0);
      expect(fixture.events.revoked).toEqual([]);
      expect((await fixture.sessions.getAllSessionHandlesForUser("henry")).sort()).toEqual([first.handle, second.handle].sort());
      expect((await fixture.sessions.getSessionInformation(first.handle))?.revokedAt).toBeNull();
      await request(fixture.app).get("/api/strict").set("Cookie", accessCookie(first.access)).expect(200);
      // And the next login that can be stored evicts as usual.
      await loginWith(fixture.app, "henry", {});
      expect(fixture.events.revoked.map((event) => [event.handle, event.reason])).toEqual([[first.handle, "evicted"]]);
      await fixture.sessions.close();
    });
  }
});

describeEachStore("per-login lifetimes", (stores) => {
  let clock: ReturnType<typeof fakeClock>;
  let fixture: TestApp;
  let t0: number;

  beforeEach(() => {
    clock = fakeClock();
    t0 = clock.now();
    fixture = lifetimeApp({ store: stores.create(), clock: clock.now, refreshTokenTtl: "30d", absoluteTtl: "180d", accessTokenTtl: "15m" });
  });

  afterEach(() => fixture.sessions.close());

  it("by default: persistent cookies until the idle expiry, idleTtl = refreshTokenTtl, absolute = absoluteTtl", async () => {
    const { res, handle } = await login(fixture.app, "ivy");
    expectPersistentCookies(res, t0 + 30 * DAY);
    expect(await fixture.sessions.getSessionInformation(handle)).toEqual(
      expect.objectContaining({ persistent: true, idleTtl: 30 * DAY, createdAt: t0, lastRefreshedAt: t0, expiresAt: t0 + 30 * DAY, absoluteExpiresAt: t0 + 180 * DAY }),
    );
  });

  it("rememberMe: false sets browser-session cookies (no Expires, no Max-Age) and a 12 h idle lifetime, stored on the row", async () => {
    const { res, handle } = await loginWith(fixture.app, "jack", { rememberMe: false });
    expectBrowserSessionCookies(res);
    expect(await fixture.sessions.getSessionInformation(handle)).toEqual(
      expect.objectContaining({ persistent: false, idleTtl: BROWSER_SESSION_IDLE, expiresAt: t0 + BROWSER_SESSION_IDLE, absoluteExpiresAt: t0 + 180 * DAY }),
    );
    // The access token's own lifetime is unchanged.
    expect(decodeFrontToken(res.headers["front-token"] as string).ate).toBe(t0 + 15 * MINUTE);
    // listSessions shows it too.
    expect((await fixture.sessions.listSessions("jack")).map((session) => session.persistent)).toEqual([false]);
  });

  it("rememberMe: true is the default behaviour", async () => {
    const { res, handle } = await loginWith(fixture.app, "jack", { rememberMe: true });
    expectPersistentCookies(res, t0 + 30 * DAY);
    expect(await fixture.sessions.getSessionInformation(handle)).toEqual(expect.objectContaining({ persistent: true, idleTtl: 30 * DAY }));
  });

  it("a rememberMe: false session keeps browser-session cookies and its 12 h idle lifetime at every refresh, and ends after 12 h idle", async () => {
    const session = await loginWith(fixture.app, "kate", { rememberMe: false });
    clock.advance(11 * HOUR);
    const first = await refresh(fixture.app, session.refresh).expect(200);
    expectBrowserSessionCookies(first);
    // The previous token inside the grace window (a second tab) gets the same successor, in browser-session cookies too.
    const raced = await refresh(fixture.app, session.refresh).expect(200);
    expect(tokensOf(raced).refresh).toBe(tokensOf(first).refresh);
    expectBrowserSessionCookies(raced);
    expect(await fixture.sessions.getSessionInformation(session.handle)).toEqual(
      expect.objectContaining({ persistent: false, idleTtl: BROWSER_SESSION_IDLE, lastRefreshedAt: t0 + 11 * HOUR, expiresAt: t0 + 23 * HOUR, absoluteExpiresAt: t0 + 180 * DAY }),
    );

    clock.advance(BROWSER_SESSION_IDLE - 1); // the last millisecond of its idle lifetime
    const second = await refresh(fixture.app, tokensOf(first).refresh).expect(200);
    expectBrowserSessionCookies(second);
    expect((await fixture.sessions.getSessionInformation(session.handle))?.expiresAt).toBe(clock.now() + BROWSER_SESSION_IDLE);

    // A re-signed access token (a payload change) is a browser-session cookie too.
    const merged = await request(fixture.app)
      .post("/api/merge")
      .set("Cookie", accessCookie(tokensOf(second).access))
      .send({ update: { theme: "dark" } })
      .expect(200);
    expectCookie(merged, "sAccessToken", { path: "/", httponly: true, expires: undefined, "max-age": undefined });

    clock.advance(BROWSER_SESSION_IDLE); // 12 h without a refresh
    const refused = await refresh(fixture.app, tokensOf(second).refresh).expect(401);
    expect(refused.body).toEqual({ message: "unauthorised" });
  });

  it("sessionTtl { idle, absolute } is this session's own: stored, shown, slid by every refresh, never past its absolute", async () => {
    const session = await loginWith(fixture.app, "liam", { sessionTtl: { idle: "1h", absolute: "3h" } });
    expectPersistentCookies(session.res, t0 + HOUR);
    expect(await fixture.sessions.getSessionInformation(session.handle)).toEqual(
      expect.objectContaining({ persistent: true, idleTtl: HOUR, expiresAt: t0 + HOUR, absoluteExpiresAt: t0 + 3 * HOUR }),
    );

    // Refreshed every 50 minutes: the idle expiry slides by this session's hour...
    let token = session.refresh;
    const expected: [number, number][] = [
      [50, 110],
      [100, 160],
      [150, 180], // ...but never past t0 + 3 h
      [175, 180],
    ];
    for (const [at, expiresAt] of expected) {
      clock.advance(t0 + at * MINUTE - clock.now());
      const res = await refresh(fixture.app, token).expect(200);
      token = tokensOf(res).refresh;
      const info = await fixture.sessions.getSessionInformation(session.handle);
      expect([at, info?.expiresAt, info?.absoluteExpiresAt, info?.idleTtl]).toEqual([at, t0 + expiresAt * MINUTE, t0 + 3 * HOUR, HOUR]);
      expectPersistentCookies(res, t0 + expiresAt * MINUTE);
      // The access token never outlives the session either.
      const ate = decodeFrontToken(res.headers["front-token"] as string).ate;
      expect([at, ate]).toEqual([at, Math.min(clock.now() + 15 * MINUTE, t0 + 3 * HOUR)]);
      expect((decodeJwtPart(tokensOf(res).access, 1).exp as number) * 1000).toBe(ate);
    }

    clock.advance(t0 + 3 * HOUR - clock.now());
    expect((await refresh(fixture.app, token).expect(401)).body).toEqual({ message: "unauthorised" });
  });

  it("rememberMe: false with a sessionTtl: browser-session cookies, the given idle and absolute lifetimes", async () => {
    const session = await loginWith(fixture.app, "mia", { rememberMe: false, sessionTtl: { idle: "2h", absolute: "1d" } });
    expectBrowserSessionCookies(session.res);
    expect(await fixture.sessions.getSessionInformation(session.handle)).toEqual(
      expect.objectContaining({ persistent: false, idleTtl: 2 * HOUR, expiresAt: t0 + 2 * HOUR, absoluteExpiresAt: t0 + DAY }),
    );
    clock.advance(2 * HOUR - 1000);
    const res = await refresh(fixture.app, session.refresh).expect(200);
    expectBrowserSessionCookies(res);
    expect((await fixture.sessions.getSessionInformation(session.handle))?.expiresAt).toBe(clock.now() + 2 * HOUR);
  });

  it("sessionTtl with only absolute keeps the default idle lifetime", async () => {
    const session = await loginWith(fixture.app, "noah", { sessionTtl: { absolute: "60d" } });
    expect(await fixture.sessions.getSessionInformation(session.handle)).toEqual(
      expect.objectContaining({ persistent: true, idleTtl: 30 * DAY, expiresAt: t0 + 30 * DAY, absoluteExpiresAt: t0 + 60 * DAY }),
    );
    clock.advance(29 * DAY);
    const res = await refresh(fixture.app, session.refresh).expect(200);
    expectPersistentCookies(res, t0 + 59 * DAY);
    clock.advance(29 * DAY);
    const capped = await refresh(fixture.app, tokensOf(res).refresh).expect(200);
    expectPersistentCookies(capped, t0 + 60 * DAY); // capped at its own absolute
  });

  it("rememberMe: false never lengthens a refreshTokenTtl shorter than 12 h", async () => {
    const short = lifetimeApp({ store: stores.create(), clock: clock.now, refreshTokenTtl: "1h" });
    const session = await loginWith(short.app, "olga", { rememberMe: false });
    expectBrowserSessionCookies(session.res);
    expect(await short.sessions.getSessionInformation(session.handle)).toEqual(expect.objectContaining({ persistent: false, idleTtl: HOUR, expiresAt: t0 + HOUR }));
    await short.sessions.close();
  });

  it("the lifetimes are read from the row: another instance with other defaults honours them at refresh", async () => {
    const [storeA, storeB] = stores.pair();
    const a = lifetimeApp({ store: storeA, clock: clock.now, refreshTokenTtl: "30d", absoluteTtl: "180d" });
    const b = lifetimeApp({ store: storeB, clock: clock.now, refreshTokenTtl: "7d", absoluteTtl: "90d" });
    const browser = await loginWith(a.app, "paul", { rememberMe: false });
    const custom = await loginWith(a.app, "paul", { sessionTtl: { idle: "2d", absolute: "10d" } });
    const plain = await login(a.app, "paul");
    clock.advance(HOUR);

    const browserRefresh = await refresh(b.app, browser.refresh).expect(200);
    expectBrowserSessionCookies(browserRefresh);
    expect(await b.sessions.getSessionInformation(browser.handle)).toEqual(
      expect.objectContaining({ persistent: false, idleTtl: BROWSER_SESSION_IDLE, expiresAt: clock.now() + BROWSER_SESSION_IDLE, absoluteExpiresAt: t0 + 180 * DAY }),
    );

    const customRefresh = await refresh(b.app, custom.refresh).expect(200);
    expectPersistentCookies(customRefresh, clock.now() + 2 * DAY);
    expect(await b.sessions.getSessionInformation(custom.handle)).toEqual(
      expect.objectContaining({ persistent: true, idleTtl: 2 * DAY, expiresAt: clock.now() + 2 * DAY, absoluteExpiresAt: t0 + 10 * DAY }),
    );

    // A session that chose nothing keeps the absolute expiry it was created with, and slides by the refreshing instance's default.
    const plainRefresh = await refresh(b.app, plain.refresh).expect(200);
    expectPersistentCookies(plainRefresh, clock.now() + 7 * DAY);
    expect(await b.sessions.getSessionInformation(plain.handle)).toEqual(
      expect.objectContaining({ persistent: true, idleTtl: 7 * DAY, expiresAt: clock.now() + 7 * DAY, absoluteExpiresAt: t0 + 180 * DAY }),
    );
    await Promise.all([a.sessions.close(), b.sessions.close()]);
  });

  it("refreshSessionWithoutRequestResponse honours them too", async () => {
    const created = await fixture.sessions.createNewSessionWithoutRequestResponse("quinn", { rememberMe: false, sessionTtl: { idle: "1h", absolute: "2h" } });
    expect(await fixture.sessions.getSessionInformation(created.session.handle)).toEqual(
      expect.objectContaining({ persistent: false, idleTtl: HOUR, expiresAt: t0 + HOUR, absoluteExpiresAt: t0 + 2 * HOUR }),
    );
    clock.advance(50 * MINUTE);
    const first = await fixture.sessions.refreshSessionWithoutRequestResponse(created.refreshToken);
    expect((await fixture.sessions.getSessionInformation(created.session.handle))?.expiresAt).toBe(t0 + 110 * MINUTE);
    clock.advance(58 * MINUTE); // t0 + 108 min: the idle expiry would be t0 + 168 min, the absolute caps it
    const second = await fixture.sessions.refreshSessionWithoutRequestResponse(first.refreshToken);
    expect((await fixture.sessions.getSessionInformation(created.session.handle))?.expiresAt).toBe(t0 + 2 * HOUR);
    expect(second.session.expiresAt).toBe(t0 + 2 * HOUR); // the access token: min(now + 15 min, absolute)
    expect(decodeFrontToken(second.frontToken).ate).toBe(t0 + 2 * HOUR);
    clock.advance(12 * MINUTE); // t0 + 2 h
    await expect(fixture.sessions.refreshSessionWithoutRequestResponse(second.refreshToken)).rejects.toMatchObject({ code: "UNAUTHORISED", status: 401 });
  });

  it.each([
    [{ rememberMe: "no" }, "latchkey: createSession option rememberMe must be true or false (got string)."],
    [{ sessionTtl: { idle: "2d", absolute: "1d" } }, "latchkey: createSession sessionTtl.idle (172800s) must not exceed the absolute lifetime (86400s)."],
    [{ sessionTtl: { idle: "10m" } }, "latchkey: createSession sessionTtl.idle (600s) must be longer than accessTokenTtl (900s)."],
    [{ sessionTtl: { idle: "forever" } }, 'latchkey: createSession option sessionTtl.idle must be seconds as a positive number or a string such as "30m" or "7d" (got "forever").'],
    [{ sessionTtl: { idel: "1h" } }, 'latchkey: createSession option sessionTtl must be an object { idle?, absolute? } of durations such as "30m".'],
  ])("refuses %j with a TypeError and writes nothing", async (options, message) => {
    const res = await request(fixture.app).post("/login/with").send({ userId: "rita", options }).expect(400);
    expect(res.body).toEqual({ message });
    expect(setCookies(res).size).toBe(0);
    await expect(fixture.sessions.createNewSessionWithoutRequestResponse("rita", options as never)).rejects.toThrow(new TypeError(message));
    expect(await fixture.sessions.getAllSessionHandlesForUser("rita")).toEqual([]);
  });

  // Issue 19, LT1: a login may shorten the deployment's lifetimes, never lengthen them, and
  // nothing past what a cookie and the stores can hold reaches a row.
  it.each([
    [{ sessionTtl: { absolute: "181d" } }, "latchkey: createSession option sessionTtl.absolute (15638400s) must not exceed the middleware's absoluteTtl (15552000s)."],
    [{ sessionTtl: { idle: "181d" } }, "latchkey: createSession option sessionTtl.idle (15638400s) must not exceed the middleware's absoluteTtl (15552000s)."],
    [{ sessionTtl: { idle: "99999999999999d" } }, "latchkey: createSession option sessionTtl.idle (8639999999999914000s) must not exceed the middleware's absoluteTtl (15552000s)."],
    [{ sessionTtl: { absolute: 1e300 } }, "latchkey: createSession option sessionTtl.absolute (1e+300s) must not exceed the middleware's absoluteTtl (15552000s)."],
    [{ sessionTtl: { idle: 3600.0005 } }, "latchkey: createSession option sessionTtl.idle must be a whole number of milliseconds (got 3600.0005s)."],
  ])("refuses %j, above what the deployment allows, with a TypeError naming the limit, and writes nothing", async (options, message) => {
    const res = await request(fixture.app).post("/login/with").send({ userId: "rita", options }).expect(400);
    expect(res.body).toEqual({ message });
    expect(setCookies(res).size).toBe(0);
    await expect(fixture.sessions.createNewSessionWithoutRequestResponse("rita", options as never)).rejects.toThrow(new TypeError(message));
    expect(await fixture.sessions.getAllSessionHandlesForUser("rita")).toEqual([]);
  });

  it.each([
    [{ sessionTtl: { absolute: "3000000d" } }, "latchkey: createSession option sessionTtl.absolute (259200000000s) would end a session after 9999-12-31, the last date a cookie's Expires can carry: at most 251606433599s from now."],
    [{}, "latchkey: option absoluteTtl (8639999999999914000s) would end a session after 9999-12-31, the last date a cookie's Expires can carry: at most 251606433599s from now."],
  ])("with an absoluteTtl past what cookies can carry, refuses %j with a TypeError naming the limit, and writes nothing", async (options, message) => {
    const huge = lifetimeApp({ store: stores.create(), clock: clock.now, refreshTokenTtl: "30d", absoluteTtl: "99999999999999d", accessTokenTtl: "15m" });
    try {
      const res = await request(huge.app).post("/login/with").send({ userId: "rita", options }).expect(400);
      expect(res.body).toEqual({ message });
      expect(setCookies(res).size).toBe(0);
      await expect(huge.sessions.createNewSessionWithoutRequestResponse("rita", options as never)).rejects.toThrow(new TypeError(message));
      expect(await huge.sessions.getAllSessionHandlesForUser("rita")).toEqual([]);
    } finally {
      await huge.sessions.close();
    }
  });
});

describeEachStore("default lifetimes", (stores) => {
  it("#50 with the default lifetimes: idle 30 days slides, absolute 180 days does not", async () => {
    const clock = fakeClock();
    const { app } = createApp({ store: stores.create(), clock: clock.now, cleanupInterval: false });
    const idle = await login(app, "idle");
    let { refresh } = await login(app, "active");

    clock.advance(29 * DAY);
    for (let day = 29; day <= 174; day += 29) {
      refresh = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200)).refresh;
      if (day < 174) clock.advance(29 * DAY);
    }
    // Day 174: the idle session has been unused for 174 days.
    expect((await request(app).post(REFRESH).set("Cookie", refreshCookie(idle.refresh))).status).toBe(401);
    clock.advance(6 * DAY - 1); // a millisecond before day 180
    refresh = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200)).refresh;
    clock.advance(1);
    const ended = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(401);
    expect(ended.body).toEqual(UNAUTHORISED);

    const other = createApp({ store: stores.create(), clock: clock.now, cleanupInterval: false });
    const quiet = await login(other.app);
    clock.advance(30 * DAY - 1);
    const stillLive = tokensOf(await request(other.app).post(REFRESH).set("Cookie", refreshCookie(quiet.refresh)).expect(200));
    clock.advance(30 * DAY);
    expect((await request(other.app).post(REFRESH).set("Cookie", refreshCookie(stillLive.refresh))).status).toBe(401);
  });
});
