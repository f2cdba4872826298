import express from "express";
import {
  errorHandler,
  FRESH_VALIDATOR_ID,
  PrimitiveArrayClaim,
  requireFresh,
  sendSessionError,
  sessionMiddleware,
  verifySession,
  type Session,
  type SessionMiddleware,
  type SessionMiddlewareOptions,
} from "../lib";
import {
  accessCookie,
  countingStore,
  decodeFrontToken,
  decodeJwtPart,
  describeEachStore,
  fakeClock,
  login,
  refreshCookie,
  request,
  setCookies,
  tokensOf,
} from "./helpers";

/**
 * Freshness (DESIGN §6.3, issue #13): `authTime` in every token, set at login and kept
 * across refreshes and re-signs; `requireFresh(maxAgeSeconds)`; and
 * `res.createSession(userId, { reauthenticate: true })` renewing it in place.
 */

// Read through a cast: compiled beside @types/express-session (spec/types), req.session is its type.
const sessionOf = (req: express.Request): Session => (req as unknown as { session: Session }).session;

const REFRESH = "/auth/session/refresh";
const MINUTE = 60_000;
const requestCalls = (calls: string[]) => calls.filter((call) => call !== "listClaimInvalidationsSince");

function tooOld(ageInSeconds: number, maxAgeInSeconds: number) {
  return {
    message: "invalid claim",
    claimValidationErrors: [{ id: "latchkey-fresh", reason: { message: "session too old", ageInSeconds, maxAgeInSeconds } }],
  };
}

interface FreshApp {
  app: express.Express;
  sessions: SessionMiddleware;
  created: string[];
}

/**
 * `POST /login` (body `{ userId, options }`), `GET /api/me`, `GET /api/fresh` (requireFresh(300)),
 * `GET /api/fresh-10m` (requireFresh(600)), `GET /api/assert-fresh` (assertClaims([requireFresh(300)])),
 * `GET /api/roles` (refetches a missing Roles claim).
 */
function freshApp(options: SessionMiddlewareOptions): FreshApp {
  const created: string[] = [];
  const Roles = new PrimitiveArrayClaim<string>({ key: "st-role", fetchValue: () => ["user"] });
  const sessions = sessionMiddleware({ logger: false, onSessionCreated: (event) => void created.push(event.handle), ...options });
  const app = express();
  app.use(express.json());
  app.use(sessions);
  app.post("/login", async (req, res, next) => {
    try {
      const session = await res.createSession(req.body.userId, req.body.options ?? {});
      res.json({ handle: session.handle, authTime: session.authTime });
    } catch (error) {
      next(error);
    }
  });
  const show: express.RequestHandler = (req, res) => {
    const session = sessionOf(req);
    res.json({ userId: session.userId, handle: session.handle, authTime: session.authTime, payload: session.accessTokenPayload });
  };
  app.get("/api/me", verifySession(), show);
  app.get("/api/fresh", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, requireFresh(300)] }), show);
  app.get("/api/fresh-10m", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, requireFresh(600)] }), show);
  app.get("/api/roles", verifySession({ overrideGlobalClaimValidators: () => [Roles.validators.includes("user")] }), show);
  app.get("/api/assert-fresh", verifySession(), async (req, res) => {
    try {
      await sessionOf(req).assertClaims([requireFresh(300)]);
      res.json({ ok: true });
    } catch (error) {
      sendSessionError(error, req, res);
    }
  });
  app.use(errorHandler());
  return { app, sessions, created };
}

describeEachStore("freshness: authTime, requireFresh, reauthenticate", (stores) => {
  const opened: SessionMiddleware[] = [];
  afterEach(async () => {
    for (const sessions of opened.splice(0)) await sessions.close().catch(() => {});
  });
  function build(options: SessionMiddlewareOptions): FreshApp {
    const built = freshApp(options);
    opened.push(built.sessions);
    return built;
  }

  describe("authTime", () => {
    it("is in every token (seconds, set at login) and kept across refreshes and claim re-signs", async () => {
      const clock = fakeClock();
      const t0 = clock.now();
      const { app, sessions } = build({ store: stores.create(), clock: clock.now });
      const { res, access, refresh, handle } = await login(app, "u1");
      expect(res.body.authTime).toBe(t0);
      expect(decodeJwtPart(access, 1).authTime).toBe(t0 / 1000);
      expect(decodeFrontToken(res.headers["front-token"] as string).up.authTime).toBe(t0 / 1000);
      expect((await sessions.getSessionInformation(handle))?.authTime).toBe(t0);
      const me = await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
      expect(me.body.authTime).toBe(t0);

      // A claim refetch re-signs the token: authTime stays.
      clock.advance(MINUTE);
      const roles = await request(app).get("/api/roles").set("Cookie", accessCookie(access)).expect(200);
      expect(decodeJwtPart(tokensOf(roles).access, 1)).toMatchObject({ authTime: t0 / 1000, iat: (t0 + MINUTE) / 1000 });

      // Two refreshes, 20 minutes apart: new iat each time, the login's authTime always.
      let current = refresh;
      for (const at of [20, 40]) {
        clock.advance(20 * MINUTE - (at === 20 ? MINUTE : 0));
        const refreshed = await request(app).post(REFRESH).set("Cookie", refreshCookie(current)).expect(200);
        const jwt = decodeJwtPart(tokensOf(refreshed).access, 1);
        expect(jwt).toMatchObject({ iat: (t0 + at * MINUTE) / 1000, authTime: t0 / 1000 });
        expect(decodeFrontToken(refreshed.headers["front-token"] as string).up.authTime).toBe(t0 / 1000);
        current = tokensOf(refreshed).refresh;
      }
      expect((await sessions.getSessionInformation(handle))?.authTime).toBe(t0);
    });
  });

  describe("requireFresh(maxAgeSeconds)", () => {
    it("passes up to maxAge after the login and then answers 403 'session too old', with no store call or fetch", async () => {
      const clock = fakeClock();
      const counted = countingStore(stores.create());
      const { app } = build({ store: counted.store, clock: clock.now });
      const { access } = await login(app, "u1");
      expect(FRESH_VALIDATOR_ID).toBe("latchkey-fresh");

      counted.calls.length = 0;
      await request(app).get("/api/fresh").set("Cookie", accessCookie(access)).expect(200);
      clock.advance(300_000);
      const atLimit = await request(app).get("/api/fresh").set("Cookie", accessCookie(access)).expect(200);
      expect(atLimit.headers["set-cookie"]).toBeUndefined();

      clock.advance(1000);
      const old = await request(app).get("/api/fresh").set("Cookie", accessCookie(access)).expect(403);
      expect(old.body).toEqual(tooOld(301, 300));
      // Nothing to refetch: only a login renews authTime. The tokens are kept.
      expect(old.headers["set-cookie"]).toBeUndefined();
      expect(requestCalls(counted.calls)).toEqual([]);
      // The session itself is fine elsewhere.
      await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    });

    it("counts from the login, not from the last refresh", async () => {
      const clock = fakeClock();
      const { app } = build({ store: stores.create(), clock: clock.now });
      const { refresh } = await login(app, "u1");
      clock.advance(20 * MINUTE);
      const refreshed = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200);
      const res = await request(app).get("/api/fresh-10m").set("Cookie", accessCookie(tokensOf(refreshed).access)).expect(403);
      expect(res.body).toEqual(tooOld(1200, 600));
    });

    it("works in assertClaims", async () => {
      const clock = fakeClock();
      const { app } = build({ store: stores.create(), clock: clock.now });
      const { access } = await login(app, "u1");
      clock.advance(10_000);
      const ok = await request(app).get("/api/assert-fresh").set("Cookie", accessCookie(access)).expect(200);
      expect(ok.body).toEqual({ ok: true });
      clock.advance(300_000);
      const old = await request(app).get("/api/assert-fresh").set("Cookie", accessCookie(access)).expect(403);
      expect(old.body).toEqual(tooOld(310, 300));
    });

    it("works in validateClaimsForSessionHandle", async () => {
      const clock = fakeClock();
      const { app, sessions } = build({ store: stores.create(), clock: clock.now });
      const { handle } = await login(app, "u1");
      clock.advance(10_000);
      expect(await sessions.validateClaimsForSessionHandle(handle, [requireFresh(300)])).toEqual({ status: "OK", invalidClaims: [] });
      clock.advance(300_000);
      expect(await sessions.validateClaimsForSessionHandle(handle, [requireFresh(300)])).toEqual({
        status: "OK",
        invalidClaims: tooOld(310, 300).claimValidationErrors,
      });
    });
  });

  describe("res.createSession(userId, { reauthenticate: true })", () => {
    it("renews authTime in place for a live session of the same user: same handle, new access token, new refresh token of a new lineage", async () => {
      const clock = fakeClock();
      const t0 = clock.now();
      const { app, sessions, created } = build({ store: stores.create(), clock: clock.now });
      const first = await login(app, "u1");
      clock.advance(10 * MINUTE);
      await request(app).get("/api/fresh").set("Cookie", accessCookie(first.access)).expect(403);

      const res = await request(app)
        .post("/login")
        .set("Cookie", [accessCookie(first.access), refreshCookie(first.refresh)].join("; "))
        .send({ userId: "u1", options: { reauthenticate: true } })
        .expect(200);
      const t1 = t0 + 10 * MINUTE;
      expect(res.body).toEqual({ handle: first.handle, authTime: t1 });
      // Both tokens are re-issued (issue 19, RA1): the refresh token on a new lineage.
      expect([...setCookies(res).keys()].sort()).toEqual(["sAccessToken", "sRefreshToken"]);
      const renewedRefresh = tokensOf(res).refresh;
      expect(renewedRefresh.split(".")[0]).toBe(first.handle);
      expect(renewedRefresh.split(".")[1]).not.toBe(first.refresh.split(".")[1]);
      const renewed = tokensOf(res).access;
      expect(decodeJwtPart(renewed, 1)).toMatchObject({ sub: "u1", sid: first.handle, authTime: t1 / 1000, iat: t1 / 1000 });
      expect(decodeFrontToken(res.headers["front-token"] as string).up).toEqual(decodeJwtPart(renewed, 1));
      expect((await sessions.getSessionInformation(first.handle))?.authTime).toBe(t1);
      expect(await sessions.getAllSessionHandlesForUser("u1")).toEqual([first.handle]);
      expect(created).toEqual([first.handle]);

      const fresh = await request(app).get("/api/fresh").set("Cookie", accessCookie(renewed)).expect(200);
      expect(fresh.body.authTime).toBe(t1);

      // The new refresh token refreshes, and its tokens keep the renewed authTime.
      clock.advance(16 * MINUTE);
      const refreshed = await request(app).post(REFRESH).set("Cookie", refreshCookie(renewedRefresh)).expect(200);
      expect(decodeJwtPart(tokensOf(refreshed).access, 1)).toMatchObject({ sid: first.handle, authTime: t1 / 1000 });
    });

    it("renews in header mode the same way: st-access-token, st-refresh-token and front-token, no cookie", async () => {
      const clock = fakeClock();
      const t0 = clock.now();
      const { app } = build({ store: stores.create(), clock: clock.now });
      const first = await request(app).post("/login").set("st-auth-mode", "header").send({ userId: "u1" }).expect(200);
      const access = first.headers["st-access-token"] as string;
      clock.advance(10 * MINUTE);
      const res = await request(app)
        .post("/login")
        .set("Authorization", `Bearer ${access}`)
        .send({ userId: "u1", options: { reauthenticate: true } })
        .expect(200);
      expect(res.body.handle).toBe(first.body.handle);
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(res.headers["st-refresh-token"]).toMatch(new RegExp(`^${first.body.handle}\\.`));
      expect(res.headers["st-refresh-token"]).not.toBe(first.headers["st-refresh-token"]);
      const renewed = res.headers["st-access-token"] as string;
      expect(decodeJwtPart(renewed, 1)).toMatchObject({ sid: first.body.handle, authTime: (t0 + 10 * MINUTE) / 1000 });
      expect(decodeFrontToken(res.headers["front-token"] as string).up.authTime).toBe((t0 + 10 * MINUTE) / 1000);
      await request(app).get("/api/fresh").set("Authorization", `Bearer ${renewed}`).expect(200);
    });

    // Issue 19, RA1: a refresh token copied before the step-up must not earn the fresh authTime.
    it.each([0, 20 * MINUTE])("takes the refresh token from before the step-up for theft %d ms after it: no access token passing requireFresh(300), session revoked", async (wait) => {
      const clock = fakeClock();
      const theft: string[] = [];
      const { app, sessions } = build({ store: stores.create(), clock: clock.now, refreshGrace: "10s", onTheftDetected: (event) => void theft.push(event.handle) });
      const first = await login(app, "u1");
      const copied = first.refresh; // taken before the step-up
      clock.advance(10 * MINUTE);
      const res = await request(app)
        .post("/login")
        .set("Cookie", [accessCookie(first.access), refreshCookie(first.refresh)].join("; "))
        .send({ userId: "u1", options: { reauthenticate: true } })
        .expect(200);
      clock.advance(wait);

      const stolen = await request(app).post(REFRESH).set("Cookie", refreshCookie(copied)).expect(401);
      expect(stolen.body).toEqual({ message: "token theft detected" });
      expect(tokensOf(stolen).access).toBe("");
      expect(theft).toEqual([first.handle]);
      expect((await sessions.getSessionInformation(first.handle))?.revokedAt).toBe(clock.now());
      // Nothing of the session passes any more, the step-up's tokens included.
      await request(app).post(REFRESH).set("Cookie", refreshCookie(tokensOf(res).refresh)).expect(401);
      await request(app).get("/api/fresh").set("Cookie", accessCookie(tokensOf(res).access)).expect(401);
    });

    it("gives a new refresh token that works: it refreshes, and its access tokens pass requireFresh(300)", async () => {
      const clock = fakeClock();
      const { app } = build({ store: stores.create(), clock: clock.now });
      const first = await login(app, "u1");
      clock.advance(10 * MINUTE);
      const res = await request(app)
        .post("/login")
        .set("Cookie", [accessCookie(first.access), refreshCookie(first.refresh)].join("; "))
        .send({ userId: "u1", options: { reauthenticate: true } })
        .expect(200);
      clock.advance(MINUTE);
      const refreshed = await request(app).post(REFRESH).set("Cookie", refreshCookie(tokensOf(res).refresh)).expect(200);
      await request(app).get("/api/fresh").set("Cookie", accessCookie(tokensOf(refreshed).access)).expect(200);
      clock.advance(MINUTE);
      await request(app).post(REFRESH).set("Cookie", refreshCookie(tokensOf(refreshed).refresh)).expect(200);
    });

    it("starts a new session (ending the carried one) when the carried session belongs to another user", async () => {
      const clock = fakeClock();
      const { app, sessions } = build({ store: stores.create(), clock: clock.now });
      const first = await login(app, "u1");
      clock.advance(MINUTE);
      const res = await request(app)
        .post("/login")
        .set("Cookie", accessCookie(first.access))
        .send({ userId: "u2", options: { reauthenticate: true } })
        .expect(200);
      expect(res.body.handle).not.toBe(first.handle);
      expect([...setCookies(res).keys()].sort()).toEqual(["sAccessToken", "sRefreshToken"]);
      expect(decodeJwtPart(tokensOf(res).access, 1)).toMatchObject({ sub: "u2", sid: res.body.handle, authTime: clock.now() / 1000 });
      expect((await sessions.getSessionInformation(first.handle))?.revokedAt).toBe(clock.now());
    });

    it("starts a new session when the carried session is no longer live, or when there is none", async () => {
      const clock = fakeClock();
      const { app, sessions } = build({ store: stores.create(), clock: clock.now });
      const first = await login(app, "u1");
      await sessions.revokeSession(first.handle);
      const again = await request(app)
        .post("/login")
        .set("Cookie", accessCookie(first.access))
        .send({ userId: "u1", options: { reauthenticate: true } })
        .expect(200);
      expect(again.body.handle).not.toBe(first.handle);
      expect([...setCookies(again).keys()].sort()).toEqual(["sAccessToken", "sRefreshToken"]);

      const none = await request(app).post("/login").send({ userId: "u1", options: { reauthenticate: true } }).expect(200);
      expect([...setCookies(none).keys()].sort()).toEqual(["sAccessToken", "sRefreshToken"]);
      expect((await sessions.getAllSessionHandlesForUser("u1")).sort()).toEqual([again.body.handle, none.body.handle].sort());
    });

    it("without reauthenticate, a login of the same user still starts a new session", async () => {
      const clock = fakeClock();
      const { app, sessions } = build({ store: stores.create(), clock: clock.now });
      const first = await login(app, "u1");
      clock.advance(MINUTE);
      const res = await request(app).post("/login").set("Cookie", accessCookie(first.access)).send({ userId: "u1" }).expect(200);
      expect(res.body.handle).not.toBe(first.handle);
      expect((await sessions.getSessionInformation(first.handle))?.revokedAt).toBe(clock.now());
    });
  });
});
