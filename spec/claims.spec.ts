import express from "express";
import {
  BooleanClaim,
  errorHandler,
  getSession,
  PrimitiveArrayClaim,
  PrimitiveClaim,
  sendSessionError,
  sessionMiddleware,
  verifySession,
  type Session,
  type SessionClaimValidator,
  type SessionMiddleware,
  type SessionMiddlewareOptions,
} from "../lib";
import { REVOCATION_POLL_MS } from "../lib/sessions/background";
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
 * Session claims (DESIGN §6.3, issue #13): the {v, t} payload, claims fetched at login,
 * validators refetching inside verifySession and re-signing on the same response, the
 * invalid-claim answer the frontend SDK reacts to, the session and by-handle methods, and
 * invalidateClaim reaching every instance through the revocation poll.
 */

// Read through a cast: compiled beside @types/express-session (spec/types), req.session is its type.
const sessionOf = (req: express.Request): Session => (req as unknown as { session: Session }).session;

const REFRESH = "/auth/session/refresh";

// The revocation/claim poll is timer work, not per-request I/O (countingStore leaves out
// listRevokedSince itself, but not the claim-invalidation half of the same poll).
const requestCalls = (calls: string[]) => calls.filter((call) => call !== "listClaimInvalidationsSince");

/** A user directory the claims read, with a log of every fetchValue call. */
function world() {
  const users = { verified: new Map<string, boolean>(), roles: new Map<string, string[]>(), plan: new Map<string, string>() };
  const fetched: string[] = [];
  const contexts: { key: string; userId: string; handle: string; accessTokenPayload: Record<string, unknown> }[] = [];
  const log = (key: string, userId: string, context: { handle: string; accessTokenPayload: Readonly<Record<string, unknown>> }) => {
    fetched.push(`${key}:${userId}`);
    contexts.push({ key, userId, handle: context.handle, accessTokenPayload: { ...context.accessTokenPayload } });
  };
  const EmailVerified = new BooleanClaim({
    key: "st-ev",
    fetchValue: (userId, context) => {
      log("st-ev", userId, context);
      return users.verified.get(userId);
    },
  });
  const Roles = new PrimitiveArrayClaim<string>({
    key: "st-role",
    defaultMaxAgeInSeconds: 300,
    fetchValue: async (userId, context) => {
      log("st-role", userId, context);
      const roles = users.roles.get(userId);
      return roles === undefined ? undefined : [...roles];
    },
  });
  const Plan = new PrimitiveClaim<string>({
    key: "plan",
    fetchValue: async (userId, context) => {
      log("plan", userId, context);
      return users.plan.get(userId);
    },
  });
  return { users, fetched, contexts, EmailVerified, Roles, Plan };
}
type World = ReturnType<typeof world>;

interface ClaimsApp {
  app: express.Express;
  sessions: SessionMiddleware;
  handled: { count: number };
}

const open: NonNullable<Parameters<typeof verifySession>[0]> = { overrideGlobalClaimValidators: () => [] };

/**
 * `POST /login` (body `{ userId, options }`), `GET /api/me` (the global validators),
 * `GET /api/open` (no validators), `GET /api/admin` (globals + Roles includes "admin"),
 * plus the routes a test adds; errorHandler() last.
 */
function claimsApp(w: World, options: SessionMiddlewareOptions, routes?: (app: express.Express, show: express.RequestHandler) => void): ClaimsApp {
  const sessions = sessionMiddleware({ logger: false, ...options });
  const handled = { count: 0 };
  const app = express();
  app.use(express.json());
  app.use(sessions);
  app.post("/login", async (req, res, next) => {
    try {
      const session = await res.createSession(req.body.userId, req.body.options ?? {});
      res.json({ handle: session.handle });
    } catch (error) {
      next(error);
    }
  });
  const show: express.RequestHandler = (req, res) => {
    handled.count++;
    const session = sessionOf(req);
    res.json({ userId: session.userId, handle: session.handle, payload: session.accessTokenPayload });
  };
  app.get("/api/me", verifySession(), show);
  app.get("/api/open", verifySession(open), show);
  app.get("/api/admin", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, w.Roles.validators.includes("admin")] }), show);
  routes?.(app, show);
  app.use(errorHandler());
  return { app, sessions, handled };
}

function frontOf(res: { headers: Record<string, unknown> }) {
  return decodeFrontToken(res.headers["front-token"] as string);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeEachStore("session claims", (stores) => {
  const opened: SessionMiddleware[] = [];
  afterEach(async () => {
    for (const sessions of opened.splice(0)) await sessions.close().catch(() => {});
  });
  function build(w: World, options: SessionMiddlewareOptions, routes?: Parameters<typeof claimsApp>[2]): ClaimsApp {
    const built = claimsApp(w, options, routes);
    opened.push(built.sessions);
    return built;
  }

  describe("claims fetched at createSession", () => {
    it("writes every registered claim into the token as { v, t }, in front-token and in the stored payload", async () => {
      const w = world();
      w.users.verified.set("u1", true);
      w.users.roles.set("u1", ["admin", "support"]);
      w.users.plan.set("u1", "pro");
      const clock = fakeClock();
      const t0 = clock.now();
      const { app, sessions } = build(w, { store: stores.create(), clock: clock.now, claims: [w.EmailVerified, w.Roles, w.Plan] });
      const { res, access, handle } = await login(app, "u1", { options: { accessTokenPayload: { theme: "dark" } } });

      const claims = { "st-ev": { v: true, t: t0 }, "st-role": { v: ["admin", "support"], t: t0 }, plan: { v: "pro", t: t0 } };
      const jwt = decodeJwtPart(access, 1);
      expect(jwt).toEqual({
        theme: "dark",
        ...claims,
        sub: "u1",
        sid: handle,
        iat: t0 / 1000,
        exp: t0 / 1000 + 15 * 60,
        iss: "latchkey",
        authTime: t0 / 1000,
      });
      expect(frontOf(res)).toEqual({ uid: "u1", ate: (t0 / 1000 + 15 * 60) * 1000, up: jwt });
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({ theme: "dark", ...claims });

      // Each claim fetched once, for this user and this session, with the login's own payload.
      expect([...w.fetched].sort()).toEqual(["plan:u1", "st-ev:u1", "st-role:u1"]);
      for (const context of w.contexts) expect(context).toEqual({ key: context.key, userId: "u1", handle, accessTokenPayload: { theme: "dark" } });

      const me = await request(app).get("/api/open").set("Cookie", accessCookie(access)).expect(200);
      expect(me.body.payload).toEqual({ theme: "dark", ...claims });
    });

    it("leaves out a claim whose fetchValue returns undefined", async () => {
      const w = world();
      w.users.verified.set("u1", false);
      const clock = fakeClock();
      const { app, sessions } = build(w, { store: stores.create(), clock: clock.now, claims: [w.EmailVerified, w.Roles] });
      const { access, handle } = await login(app, "u1");
      const jwt = decodeJwtPart(access, 1);
      expect(jwt["st-ev"]).toEqual({ v: false, t: clock.now() });
      expect("st-role" in jwt).toBe(false);
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({ "st-ev": { v: false, t: clock.now() } });
    });
  });

  describe("globalClaimValidators and overrideGlobalClaimValidators", () => {
    it("passes a request whose claims are valid and fresh with no store call, no fetch and no new token", async () => {
      const w = world();
      w.users.verified.set("u1", true);
      w.users.roles.set("u1", ["admin"]);
      const clock = fakeClock();
      const counted = countingStore(stores.create());
      const { app, handled } = build(w, {
        store: counted.store,
        clock: clock.now,
        claims: [w.EmailVerified, w.Roles],
        globalClaimValidators: [w.EmailVerified.validators.isTrue()],
      });
      const { access } = await login(app, "u1");
      const fetches = w.fetched.length;
      clock.advance(299_000); // Roles' max age is 300 s: still fresh
      counted.calls.length = 0;
      for (const path of ["/api/me", "/api/admin", "/api/me"]) {
        const res = await request(app).get(path).set("Cookie", accessCookie(access)).expect(200);
        expect(res.body.userId).toBe("u1");
        expect(res.headers["set-cookie"]).toBeUndefined();
        expect(res.headers["front-token"]).toBeUndefined();
      }
      expect(requestCalls(counted.calls)).toEqual([]);
      expect(w.fetched.length).toBe(fetches);
      expect(handled.count).toBe(3);
    });

    it("answers a failed global validator with 403 and exactly the SDK's body, keeping the tokens, never reaching the handler", async () => {
      const w = world();
      w.users.verified.set("u1", false);
      const clock = fakeClock();
      const counted = countingStore(stores.create());
      const { app, handled } = build(w, {
        store: counted.store,
        clock: clock.now,
        claims: [w.EmailVerified],
        globalClaimValidators: [w.EmailVerified.validators.isTrue()],
      });
      const { access } = await login(app, "u1");
      counted.calls.length = 0;
      const res = await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(403);
      expect(res.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-ev", reason: { message: "wrong value", expectedValue: true, actualValue: false } }],
      });
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(res.headers["front-token"]).toBeUndefined();
      expect(handled.count).toBe(0);
      // A stored false without a max age is not refetched (as in SuperTokens): no fetch, no I/O.
      expect(w.fetched).toEqual(["st-ev:u1"]);
      expect(requestCalls(counted.calls)).toEqual([]);
      // The session itself is fine: a route without validators serves it.
      await request(app).get("/api/open").set("Cookie", accessCookie(access)).expect(200);
    });

    it("lets a route replace the globals: () => [] passes, (globals) => [...globals, x] adds, given the globals and the session", async () => {
      const w = world();
      w.users.verified.set("u1", false);
      w.users.roles.set("u1", ["user"]);
      const clock = fakeClock();
      const seen: [string[], string][] = [];
      const { app } = build(
        w,
        {
          store: stores.create(),
          clock: clock.now,
          claims: [w.EmailVerified, w.Roles],
          globalClaimValidators: [w.EmailVerified.validators.isTrue()],
        },
        (app, show) => {
          app.get(
            "/api/seen",
            verifySession({
              overrideGlobalClaimValidators: (globals, session) => {
                seen.push([globals.map((validator) => validator.id), session.userId]);
                return [...globals, w.Roles.validators.includes("admin", undefined, "must-be-admin")];
              },
            }),
            show,
          );
        },
      );
      const { access } = await login(app, "u1");
      await request(app).get("/api/open").set("Cookie", accessCookie(access)).expect(200);
      const res = await request(app).get("/api/seen").set("Cookie", accessCookie(access)).expect(403);
      // Every failure, in the validators' order, under each validator's id.
      expect(res.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [
          { id: "st-ev", reason: { message: "wrong value", expectedValue: true, actualValue: false } },
          { id: "must-be-admin", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } },
        ],
      });
      expect(seen).toEqual([[["st-ev"], "u1"]]);
    });

    it("gives each reason shape of SuperTokens over HTTP: value does not exist, expired, wrong value", async () => {
      const w = world();
      w.users.roles.set("u1", ["user"]);
      const clock = fakeClock();
      const { app } = build(w, { store: stores.create(), clock: clock.now, claims: [w.Roles, w.Plan] }, (app, show) => {
        app.get("/api/pro", verifySession({ overrideGlobalClaimValidators: () => [w.Plan.validators.hasValue("pro")] }), show);
      });
      const { access } = await login(app, "u1");

      // Missing, and still missing after the refetch (fetchValue returns undefined).
      const fetches = w.fetched.length;
      const missing = await request(app).get("/api/pro").set("Cookie", accessCookie(access)).expect(403);
      expect(missing.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [{ id: "plan", reason: { message: "value does not exist", expectedValue: "pro" } }],
      });
      expect(w.fetched.slice(fetches)).toEqual(["plan:u1"]);

      const wrong = await request(app).get("/api/admin").set("Cookie", accessCookie(access)).expect(403);
      expect(wrong.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } }],
      });

      // Older than its max age, and the refetch brings nothing (undefined leaves the stale value).
      w.users.roles.delete("u1");
      clock.advance(301_000);
      const expired = await request(app).get("/api/admin").set("Cookie", accessCookie(access)).expect(403);
      expect(expired.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-role", reason: { message: "expired", ageInSeconds: 301, maxAgeInSeconds: 300 } }],
      });
      expect(w.fetched.slice(-1)).toEqual(["st-role:u1"]);
    });

    it("applies overrideGlobalClaimValidators to getSession as well", async () => {
      const w = world();
      w.users.roles.set("admin-1", ["admin"]);
      w.users.roles.set("user-1", ["user"]);
      const clock = fakeClock();
      const { app } = build(w, { store: stores.create(), clock: clock.now, claims: [w.Roles] }, (app) => {
        app.get("/api/get-session", async (req, res, next) => {
          try {
            const session = await getSession(req, res, { overrideGlobalClaimValidators: (globals) => [...globals, w.Roles.validators.includes("admin")] });
            res.json({ userId: session.userId, roles: session.getClaimValue(w.Roles) });
          } catch (error) {
            if (!sendSessionError(error, req, res)) next(error);
          }
        });
      });
      const admin = await login(app, "admin-1");
      const user = await login(app, "user-1");
      const ok = await request(app).get("/api/get-session").set("Cookie", accessCookie(admin.access)).expect(200);
      expect(ok.body).toEqual({ userId: "admin-1", roles: ["admin"] });
      const refused = await request(app).get("/api/get-session").set("Cookie", accessCookie(user.access)).expect(403);
      expect(refused.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } }],
      });

      // getSession refetches a stale claim and re-signs on its response too.
      w.users.roles.set("user-1", ["user", "admin"]);
      clock.advance(301_000);
      const promoted = await request(app).get("/api/get-session").set("Cookie", accessCookie(user.access)).expect(200);
      expect(promoted.body).toEqual({ userId: "user-1", roles: ["user", "admin"] });
      expect(decodeJwtPart(tokensOf(promoted).access, 1)["st-role"]).toEqual({ v: ["user", "admin"], t: clock.now() });
    });
  });

  describe("refetch inside verifySession", () => {
    it("fetches a missing claim, re-signs on the same response (cookie and front-token, same expiry), stores it, then validates", async () => {
      const w = world();
      w.users.roles.set("u1", ["admin"]);
      const clock = fakeClock();
      const t0 = clock.now();
      const counted = countingStore(stores.create());
      // Roles is not registered: logins do not fetch it, only the validator asks for it.
      const { app, sessions } = build(w, { store: counted.store, clock: clock.now });
      const { access, handle } = await login(app, "u1");
      expect("st-role" in decodeJwtPart(access, 1)).toBe(false);
      expect(w.fetched).toEqual([]);

      clock.advance(60_000);
      const res = await request(app).get("/api/admin").set("Cookie", accessCookie(access)).expect(200);
      expect(w.fetched).toEqual(["st-role:u1"]);
      expect(w.contexts[0]).toEqual({ key: "st-role", userId: "u1", handle, accessTokenPayload: {} });
      expect(res.body.payload).toEqual({ "st-role": { v: ["admin"], t: t0 + 60_000 } });

      const cookies = setCookies(res);
      expect([...cookies.keys()]).toEqual(["sAccessToken"]); // the refresh token is not touched
      expect(cookies.get("sAccessToken")?.attributes).toMatchObject({ path: "/", httponly: true });
      const resigned = cookies.get("sAccessToken")?.value as string;
      const before = decodeJwtPart(access, 1);
      const after = decodeJwtPart(resigned, 1);
      expect(after).toEqual({ ...before, "st-role": { v: ["admin"], t: t0 + 60_000 }, iat: (t0 + 60_000) / 1000 });
      expect(after.exp).toBe(before.exp);
      expect(frontOf(res)).toEqual({ uid: "u1", ate: (before.exp as number) * 1000, up: after });
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({ "st-role": { v: ["admin"], t: t0 + 60_000 } });

      // The re-signed token is served from memory: no fetch, no I/O, no new token.
      counted.calls.length = 0;
      const again = await request(app).get("/api/admin").set("Cookie", accessCookie(resigned)).expect(200);
      expect(again.headers["set-cookie"]).toBeUndefined();
      expect(w.fetched).toEqual(["st-role:u1"]);
      expect(requestCalls(counted.calls)).toEqual([]);
    });

    it("refetches a claim exactly when it is older than its max age (exactly max age is still fresh)", async () => {
      const w = world();
      w.users.roles.set("u1", ["admin"]);
      const clock = fakeClock();
      const t0 = clock.now();
      const counted = countingStore(stores.create());
      const { app, handled } = build(w, { store: counted.store, clock: clock.now, claims: [w.Roles] });
      const { access } = await login(app, "u1");
      expect(w.fetched).toEqual(["st-role:u1"]);

      w.users.roles.set("u1", ["user"]); // "remove admin" in the user directory
      clock.advance(300_000);
      counted.calls.length = 0;
      const fresh = await request(app).get("/api/admin").set("Cookie", accessCookie(access)).expect(200);
      expect(fresh.headers["set-cookie"]).toBeUndefined();
      expect(w.fetched).toEqual(["st-role:u1"]);
      expect(requestCalls(counted.calls)).toEqual([]);

      clock.advance(1);
      const stale = await request(app).get("/api/admin").set("Cookie", accessCookie(access)).expect(403);
      expect(w.fetched).toEqual(["st-role:u1", "st-role:u1"]);
      expect(stale.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } }],
      });
      // Refetched, re-signed on this very response, then refused: the SDK sees the new value.
      const resigned = tokensOf(stale).access;
      expect(decodeJwtPart(resigned, 1)["st-role"]).toEqual({ v: ["user"], t: t0 + 300_001 });
      expect(frontOf(stale).up["st-role"]).toEqual({ v: ["user"], t: t0 + 300_001 });
      expect(setCookies(stale).has("sRefreshToken")).toBe(false);
      expect(handled.count).toBe(1);

      // The new token holds a fresh, wrong value: refused again with no fetch and no I/O.
      counted.calls.length = 0;
      await request(app).get("/api/admin").set("Cookie", accessCookie(resigned)).expect(403);
      await request(app).get("/api/open").set("Cookie", accessCookie(resigned)).expect(200);
      expect(w.fetched).toHaveLength(2);
      expect(requestCalls(counted.calls)).toEqual([]);
    });

    it("fetches a claim once per request however many validators read it", async () => {
      const w = world();
      w.users.roles.set("u1", ["admin"]);
      const clock = fakeClock();
      const { app } = build(w, { store: stores.create(), clock: clock.now }, (app, show) => {
        app.get(
          "/api/both",
          verifySession({ overrideGlobalClaimValidators: () => [w.Roles.validators.includes("admin"), w.Roles.validators.excludes("banned")] }),
          show,
        );
      });
      const { access } = await login(app, "u1");
      await request(app).get("/api/both").set("Cookie", accessCookie(access)).expect(200);
      expect(w.fetched).toEqual(["st-role:u1"]);
    });

    it("re-signs a bearer-authenticated request in the st-access-token header, never a cookie", async () => {
      const w = world();
      w.users.roles.set("u1", ["admin"]);
      const clock = fakeClock();
      const t0 = clock.now();
      const { app } = build(w, { store: stores.create(), clock: clock.now });
      const loginRes = await request(app).post("/login").set("st-auth-mode", "header").send({ userId: "u1" }).expect(200);
      const access = loginRes.headers["st-access-token"] as string;

      clock.advance(5000);
      const res = await request(app).get("/api/admin").set("Authorization", `Bearer ${access}`).expect(200);
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(res.headers["st-refresh-token"]).toBeUndefined();
      const resigned = res.headers["st-access-token"] as string;
      expect(resigned).not.toBe(access);
      const before = decodeJwtPart(access, 1);
      expect(decodeJwtPart(resigned, 1)).toEqual({ ...before, "st-role": { v: ["admin"], t: t0 + 5000 }, iat: (t0 + 5000) / 1000 });
      expect(frontOf(res)).toEqual({ uid: "u1", ate: (before.exp as number) * 1000, up: decodeJwtPart(resigned, 1) });
      const exposed = String(res.headers["access-control-expose-headers"]).split(",").map((name) => name.trim());
      expect(exposed).toEqual(expect.arrayContaining(["front-token", "st-access-token"]));

      const again = await request(app).get("/api/admin").set("Authorization", `Bearer ${resigned}`).expect(200);
      expect(again.headers["st-access-token"]).toBeUndefined();
      expect(w.fetched).toEqual(["st-role:u1"]);
    });

    it("stores the refetched value, so the next refresh carries it without fetching again", async () => {
      const w = world();
      w.users.roles.set("u1", ["user"]);
      const clock = fakeClock();
      const t0 = clock.now();
      const { app } = build(w, { store: stores.create(), clock: clock.now, claims: [w.Roles] });
      const { access, refresh } = await login(app, "u1");

      w.users.roles.set("u1", ["user", "admin"]);
      clock.advance(301_000);
      const promoted = await request(app).get("/api/admin").set("Cookie", accessCookie(access)).expect(200);
      expect(decodeJwtPart(tokensOf(promoted).access, 1)["st-role"]).toEqual({ v: ["user", "admin"], t: t0 + 301_000 });
      expect(w.fetched).toEqual(["st-role:u1", "st-role:u1"]);

      clock.advance(16 * 60_000 - 301_000); // the access token has expired
      await request(app).get("/api/admin").set("Cookie", accessCookie(tokensOf(promoted).access)).expect(401);
      const refreshed = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200);
      const next = tokensOf(refreshed).access;
      expect(decodeJwtPart(next, 1)["st-role"]).toEqual({ v: ["user", "admin"], t: t0 + 301_000 });
      expect(frontOf(refreshed).up["st-role"]).toEqual({ v: ["user", "admin"], t: t0 + 301_000 });
      expect(w.fetched).toHaveLength(2); // the refresh fetched nothing: the value is present
    });
  });

  describe("invalidClaimStatusCode", () => {
    it("answers a failed validation with the configured status and the same body", async () => {
      const w = world();
      w.users.verified.set("u1", false);
      const { app } = build(w, {
        store: stores.create(),
        claims: [w.EmailVerified],
        globalClaimValidators: [w.EmailVerified.validators.isTrue()],
        invalidClaimStatusCode: 440,
      });
      const { access } = await login(app, "u1");
      const res = await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(440);
      expect(res.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-ev", reason: { message: "wrong value", expectedValue: true, actualValue: false } }],
      });
    });
  });

  describe("req.session claim methods", () => {
    function methodsApp(w: World, clock: ReturnType<typeof fakeClock>, store = stores.create()) {
      return build(w, { store, clock: clock.now }, (app) => {
        const plain = verifySession(open);
        const reply = (session: Session) => ({ value: session.getClaimValue(w.Plan) ?? null, payload: session.accessTokenPayload });
        app.get("/plan/fetch", plain, async (req, res, next) => {
          try {
            await sessionOf(req).fetchAndSetClaim(w.Plan);
            res.json(reply(sessionOf(req)));
          } catch (error) {
            next(error);
          }
        });
        app.post("/plan/set", plain, async (req, res, next) => {
          try {
            await sessionOf(req).setClaimValue(w.Plan, req.body.value);
            res.json(reply(sessionOf(req)));
          } catch (error) {
            next(error);
          }
        });
        app.get("/plan/get", plain, (req, res) => void res.json(reply(sessionOf(req))));
        app.get("/plan/remove", plain, async (req, res, next) => {
          try {
            await sessionOf(req).removeClaim(w.Plan);
            res.json(reply(sessionOf(req)));
          } catch (error) {
            next(error);
          }
        });
        app.get("/assert-admin", plain, async (req, res) => {
          try {
            await sessionOf(req).assertClaims([w.Roles.validators.includes("admin")]);
            res.json({ ok: true, roles: sessionOf(req).getClaimValue(w.Roles) });
          } catch (error) {
            sendSessionError(error, req, res);
          }
        });
        app.get("/assert-admin-via-error-handler", plain, async (req, res, next) => {
          try {
            await sessionOf(req).assertClaims([w.Roles.validators.includes("admin")]);
            res.json({ ok: true });
          } catch (error) {
            next(error);
          }
        });
      });
    }

    it("fetchAndSetClaim fetches the value, re-signs the token on the response and stores it", async () => {
      const w = world();
      w.users.plan.set("u1", "pro");
      const clock = fakeClock();
      const { app, sessions } = methodsApp(w, clock);
      const { access, handle } = await login(app, "u1");
      clock.advance(1000);
      const res = await request(app).get("/plan/fetch").set("Cookie", accessCookie(access)).expect(200);
      const entry = { v: "pro", t: clock.now() };
      expect(res.body).toEqual({ value: "pro", payload: { plan: entry } });
      expect(w.fetched).toEqual(["plan:u1"]);
      expect(w.contexts[0]).toMatchObject({ userId: "u1", handle });
      expect(decodeJwtPart(tokensOf(res).access, 1).plan).toEqual(entry);
      expect(frontOf(res).up.plan).toEqual(entry);
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({ plan: entry });
    });

    it("setClaimValue stores the given value (no fetch) and re-signs; getClaimValue reads it from the token with no I/O", async () => {
      const w = world();
      const clock = fakeClock();
      const counted = countingStore(stores.create());
      const { app, sessions } = methodsApp(w, clock, counted.store);
      const { access, handle } = await login(app, "u1");

      counted.calls.length = 0;
      const none = await request(app).get("/plan/get").set("Cookie", accessCookie(access)).expect(200);
      expect(none.body).toEqual({ value: null, payload: {} });
      expect(requestCalls(counted.calls)).toEqual([]);

      clock.advance(2000);
      const set = await request(app).post("/plan/set").set("Cookie", accessCookie(access)).send({ value: "team" }).expect(200);
      const entry = { v: "team", t: clock.now() };
      expect(set.body).toEqual({ value: "team", payload: { plan: entry } });
      expect(w.fetched).toEqual([]);
      const resigned = tokensOf(set).access;
      expect(decodeJwtPart(resigned, 1).plan).toEqual(entry);
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({ plan: entry });

      counted.calls.length = 0;
      const read = await request(app).get("/plan/get").set("Cookie", accessCookie(resigned)).expect(200);
      expect(read.body).toEqual({ value: "team", payload: { plan: entry } });
      expect(read.headers["set-cookie"]).toBeUndefined();
      expect(requestCalls(counted.calls)).toEqual([]);
    });

    it("removeClaim removes it from the token and from the stored payload", async () => {
      const w = world();
      w.users.plan.set("u1", "pro");
      const clock = fakeClock();
      const { app, sessions } = build(w, { store: stores.create(), clock: clock.now, claims: [w.Plan] }, (app) => {
        app.get("/plan/remove", verifySession(open), async (req, res, next) => {
          try {
            await sessionOf(req).removeClaim(w.Plan);
            res.json({ value: sessionOf(req).getClaimValue(w.Plan) ?? null, payload: sessionOf(req).accessTokenPayload });
          } catch (error) {
            next(error);
          }
        });
      });
      const { access, handle } = await login(app, "u1", { options: { accessTokenPayload: { theme: "dark" } } });
      expect(decodeJwtPart(access, 1).plan).toEqual({ v: "pro", t: clock.now() });
      const res = await request(app).get("/plan/remove").set("Cookie", accessCookie(access)).expect(200);
      expect(res.body).toEqual({ value: null, payload: { theme: "dark" } });
      expect("plan" in decodeJwtPart(tokensOf(res).access, 1)).toBe(false);
      expect("plan" in frontOf(res).up).toBe(false);
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({ theme: "dark" });
    });

    it("assertClaims refetches what it finds missing, re-signs, and refuses with the SDK's body", async () => {
      const w = world();
      w.users.roles.set("admin-1", ["admin"]);
      w.users.roles.set("user-1", ["user"]);
      const clock = fakeClock();
      const { app } = methodsApp(w, clock);
      const admin = await login(app, "admin-1");
      const user = await login(app, "user-1");

      const ok = await request(app).get("/assert-admin").set("Cookie", accessCookie(admin.access)).expect(200);
      expect(ok.body).toEqual({ ok: true, roles: ["admin"] });
      expect(decodeJwtPart(tokensOf(ok).access, 1)["st-role"]).toEqual({ v: ["admin"], t: clock.now() });
      expect(w.fetched).toEqual(["st-role:admin-1"]);

      const refused = await request(app).get("/assert-admin").set("Cookie", accessCookie(user.access)).expect(403);
      expect(refused.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } }],
      });
      expect(decodeJwtPart(tokensOf(refused).access, 1)["st-role"]).toEqual({ v: ["user"], t: clock.now() });

      // Fresh in the re-signed token: no second fetch.
      await request(app).get("/assert-admin").set("Cookie", accessCookie(tokensOf(ok).access)).expect(200);
      expect(w.fetched).toEqual(["st-role:admin-1", "st-role:user-1"]);

      // errorHandler() answers a thrown INVALID_CLAIM with the same status and claimValidationErrors.
      const viaHandler = await request(app).get("/assert-admin-via-error-handler").set("Cookie", accessCookie(tokensOf(refused).access)).expect(403);
      expect(viaHandler.body).toMatchObject({
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } }],
      });
    });
  });

  describe("claims by session handle (management API)", () => {
    it("fetchAndSetClaim(handle, claim) fetches and stores it for the next refresh; false for unknown or revoked sessions", async () => {
      const w = world();
      w.users.plan.set("u1", "pro");
      const clock = fakeClock();
      const { app, sessions } = build(w, { store: stores.create(), clock: clock.now });
      const { access, refresh, handle } = await login(app, "u1");
      clock.advance(3000);
      expect(await sessions.fetchAndSetClaim(handle, w.Plan)).toBe(true);
      const entry = { v: "pro", t: clock.now() };
      expect(w.fetched).toEqual(["plan:u1"]);
      expect(w.contexts[0]).toMatchObject({ userId: "u1", handle });
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({ plan: entry });

      // The token in the client's hands is unchanged; the next refresh carries the value.
      const me = await request(app).get("/api/open").set("Cookie", accessCookie(access)).expect(200);
      expect(me.body.payload).toEqual({});
      const refreshed = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200);
      expect(decodeJwtPart(tokensOf(refreshed).access, 1).plan).toEqual(entry);

      expect(await sessions.fetchAndSetClaim("00000000-0000-4000-8000-000000000000", w.Plan)).toBe(false);
      expect(await sessions.fetchAndSetClaim("not a handle", w.Plan)).toBe(false);
      await sessions.revokeSession(handle);
      expect(await sessions.fetchAndSetClaim(handle, w.Plan)).toBe(false);
      expect(w.fetched).toEqual(["plan:u1"]); // nothing fetched for sessions that are not live
    });

    it("setClaimValue(handle, claim, value) stores the value without fetching; false for unknown or revoked sessions", async () => {
      const w = world();
      const clock = fakeClock();
      const { app, sessions } = build(w, { store: stores.create(), clock: clock.now, claims: [w.Plan] });
      const { handle } = await login(app, "u1", { options: { accessTokenPayload: { theme: "dark" } } });
      clock.advance(4000);
      expect(await sessions.setClaimValue(handle, w.Plan, "team")).toBe(true);
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({ theme: "dark", plan: { v: "team", t: clock.now() } });
      expect(w.fetched).toEqual(["plan:u1"]); // the login's fetch only

      expect(await sessions.setClaimValue("00000000-0000-4000-8000-000000000000", w.Plan, "team")).toBe(false);
      await sessions.revokeSession(handle);
      expect(await sessions.setClaimValue(handle, w.Plan, "free")).toBe(false);
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload.plan).toEqual({ v: "team", t: clock.now() });
    });

    it("validateClaimsForSessionHandle refetches stale claims (storing them), then lists the failures", async () => {
      const w = world();
      w.users.verified.set("u1", false);
      w.users.roles.set("u1", ["admin"]);
      const clock = fakeClock();
      const t0 = clock.now();
      const { app, sessions } = build(w, { store: stores.create(), clock: clock.now, claims: [w.EmailVerified, w.Roles] });
      const { handle } = await login(app, "u1");
      const validators: SessionClaimValidator[] = [w.EmailVerified.validators.isTrue(), w.Roles.validators.includes("admin")];

      expect(await sessions.validateClaimsForSessionHandle(handle, validators)).toEqual({
        status: "OK",
        invalidClaims: [{ id: "st-ev", reason: { message: "wrong value", expectedValue: true, actualValue: false } }],
      });
      expect(w.fetched).toHaveLength(2); // the login's; nothing was stale

      w.users.roles.set("u1", ["user"]);
      clock.advance(301_000);
      expect(await sessions.validateClaimsForSessionHandle(handle, validators)).toEqual({
        status: "OK",
        invalidClaims: [
          { id: "st-ev", reason: { message: "wrong value", expectedValue: true, actualValue: false } },
          { id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } },
        ],
      });
      expect(w.fetched.slice(2)).toEqual(["st-role:u1"]); // only the stale one
      expect((await sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({
        "st-ev": { v: false, t: t0 },
        "st-role": { v: ["user"], t: t0 + 301_000 },
      });

      expect(await sessions.validateClaimsForSessionHandle("00000000-0000-4000-8000-000000000000", validators)).toEqual({
        status: "SESSION_DOES_NOT_EXIST_ERROR",
      });
      await sessions.revokeSession(handle);
      expect(await sessions.validateClaimsForSessionHandle(handle, validators)).toEqual({ status: "SESSION_DOES_NOT_EXIST_ERROR" });
    });
  });

  describe("invalidateClaim(userId, claim)", () => {
    it("makes this instance refetch the claim at once for every live session of that user, without signing anyone out", async () => {
      const w = world();
      w.users.roles.set("u1", ["admin"]);
      w.users.roles.set("u2", ["admin"]);
      const clock = fakeClock();
      const counted = countingStore(stores.create());
      const { app, sessions } = build(w, { store: counted.store, clock: clock.now, claims: [w.Roles] });
      const laptop = await login(app, "u1");
      const phone = await login(app, "u1");
      const other = await login(app, "u2");
      expect(w.fetched).toHaveLength(3);

      w.users.roles.set("u1", ["user"]);
      clock.advance(1000);
      await sessions.invalidateClaim("u1", w.Roles);

      // Well within the max age (300 s), yet refetched: the route has no validators at all.
      const onLaptop = await request(app).get("/api/open").set("Cookie", accessCookie(laptop.access)).expect(200);
      expect(onLaptop.body.payload).toEqual({ "st-role": { v: ["user"], t: clock.now() } });
      expect(decodeJwtPart(tokensOf(onLaptop).access, 1)["st-role"]).toEqual({ v: ["user"], t: clock.now() });
      const onPhone = await request(app).get("/api/admin").set("Cookie", accessCookie(phone.access)).expect(403);
      expect(onPhone.body).toEqual({
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } }],
      });
      expect(decodeJwtPart(tokensOf(onPhone).access, 1)["st-role"]).toEqual({ v: ["user"], t: clock.now() });
      expect(w.fetched.slice(3)).toEqual(["st-role:u1", "st-role:u1"]);

      // Another user's token: untouched, served from memory.
      counted.calls.length = 0;
      const bystander = await request(app).get("/api/admin").set("Cookie", accessCookie(other.access)).expect(200);
      expect(bystander.headers["set-cookie"]).toBeUndefined();
      expect(requestCalls(counted.calls)).toEqual([]);
      // The re-signed token is fresh again: no more fetches.
      await request(app).get("/api/open").set("Cookie", accessCookie(tokensOf(onLaptop).access)).expect(200);
      expect(w.fetched).toHaveLength(5);
      // Nobody was signed out.
      expect((await sessions.getAllSessionHandlesForUser("u1")).sort()).toEqual([laptop.handle, phone.handle].sort());
    });

    it("makes the next refresh carry the new value, and accepts the claim's key for the claim", async () => {
      const w = world();
      w.users.roles.set("u1", ["admin"]);
      const clock = fakeClock();
      const { app, sessions } = build(w, { store: stores.create(), clock: clock.now, claims: [w.Roles] });
      const { refresh } = await login(app, "u1");
      w.users.roles.set("u1", []);
      clock.advance(1000);
      await sessions.invalidateClaim("u1", "st-role");
      const refreshed = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200);
      expect(decodeJwtPart(tokensOf(refreshed).access, 1)["st-role"]).toEqual({ v: [], t: clock.now() });
      expect(frontOf(refreshed).up["st-role"]).toEqual({ v: [], t: clock.now() });
      await request(app).get("/api/admin").set("Cookie", accessCookie(tokensOf(refreshed).access)).expect(403);
    });

    it("refuses a call without a claim", async () => {
      const w = world();
      const { sessions } = build(w, { store: stores.create(), claims: [w.Roles] });
      await expect(sessions.invalidateClaim("u1", undefined as never)).rejects.toThrow(
        new TypeError("latchkey: invalidateClaim needs a claim (or its key) as its second argument."),
      );
    });

    it(
      "★ reaches a second instance on the same database within the revocation lag, with no store call on its requests before then (20 changes measured)",
      async () => {
        const [storeA, storeB] = stores.pair();
        const countedB = countingStore(storeB);
        const w = world();
        w.users.roles.set("u1", ["admin"]);
        w.users.roles.set("u2", ["admin"]);
        // Real clock, real poll.
        const a = build(w, { store: storeA, claims: [w.Roles] });
        const b = build(w, { store: countedB.store, claims: [w.Roles] });
        await Promise.all([a.sessions.ready(), b.sessions.ready()]);

        let laptop = (await login(a.app, "u1")).access;
        let phone = (await login(a.app, "u1")).access;
        const other = (await login(a.app, "u2")).access;
        let current = ["admin"];
        countedB.calls.length = 0;
        for (const token of [laptop, phone, other]) {
          const res = await request(b.app).get("/api/admin").set("Cookie", accessCookie(token)).expect(200);
          expect(res.headers["set-cookie"]).toBeUndefined();
        }
        expect(requestCalls(countedB.calls)).toEqual([]);

        const GIVE_UP_MS = 10 * REVOCATION_POLL_MS; // "never arrived", not a bound on the lag
        const propagation: number[] = [];
        for (let change = 1; change <= 20; change++) {
          const next = change % 2 === 1 ? ["user"] : ["admin"];
          w.users.roles.set("u1", next);
          // Changes land at every phase of the second instance's poll (right after one
          // arrived would always wait a whole interval), spread evenly over the 20.
          await sleep(2 + (((change * 7) % 20) / 20) * REVOCATION_POLL_MS);
          await a.sessions.invalidateClaim("u1", w.Roles);
          const changedAt = performance.now();
          const fetches = w.fetched.length;
          countedB.calls.length = 0;

          let seen;
          for (;;) {
            const res = await request(b.app).get("/api/open").set("Cookie", accessCookie(laptop)).expect(200);
            if (res.headers["set-cookie"] !== undefined) {
              seen = res;
              break;
            }
            // Not there yet: the old value, from memory, with no store call and no fetch.
            expect(res.body.payload["st-role"].v).toEqual(current);
            expect(requestCalls(countedB.calls)).toEqual([]);
            expect(w.fetched).toHaveLength(fetches);
            if (performance.now() - changedAt > GIVE_UP_MS) throw new Error(`change ${change} never reached the second instance`);
            await sleep(10);
          }
          propagation.push(performance.now() - changedAt);

          // Arrived: refetched once, the new value re-signed on that response.
          expect(w.fetched.slice(fetches)).toEqual(["st-role:u1"]);
          laptop = tokensOf(seen).access;
          expect(seen.body.payload["st-role"].v).toEqual(next);
          expect((decodeJwtPart(laptop, 1)["st-role"] as { v: unknown }).v).toEqual(next);
          expect((frontOf(seen).up["st-role"] as { v: unknown }).v).toEqual(next);

          // The user's other device on that instance refetches at its next request too.
          const onPhone = await request(b.app).get("/api/admin").set("Cookie", accessCookie(phone)).expect(next.includes("admin") ? 200 : 403);
          phone = tokensOf(onPhone).access;
          expect((decodeJwtPart(phone, 1)["st-role"] as { v: unknown }).v).toEqual(next);
          expect(w.fetched.slice(fetches)).toEqual(["st-role:u1", "st-role:u1"]);

          // Then everything is served from memory again: the re-signed tokens, another user.
          countedB.calls.length = 0;
          await request(b.app).get("/api/admin").set("Cookie", accessCookie(laptop)).expect(next.includes("admin") ? 200 : 403);
          const bystander = await request(b.app).get("/api/admin").set("Cookie", accessCookie(other)).expect(200);
          expect(bystander.headers["set-cookie"]).toBeUndefined();
          expect(requestCalls(countedB.calls)).toEqual([]);
          expect(w.fetched).toHaveLength(fetches + 2);
          current = next;
        }

        expect(propagation).toHaveLength(20);
        if (process.env.LATCHKEY_REPORT) {
          const sorted = [...propagation].sort((x, y) => x - y);
          const p50 = (sorted[9]! + sorted[10]!) / 2;
          const max = sorted[19]!;
          console.log(
            `invalidateClaim propagation to a second instance [${stores.kind} store], 20 changes: ` +
              `p50 ${p50.toFixed(0)} ms, max ${max.toFixed(0)} ms (revocation poll every ${REVOCATION_POLL_MS} ms); ` +
              `all: ${propagation.map((ms) => ms.toFixed(0)).join(", ")}`,
          );
        }
      },
      240_000,
    );
  });
});

describe("invalidClaimStatusCode option", () => {
  it("refuses 401, which the frontend SDK takes for 'refresh the session'", () => {
    expect(() => sessionMiddleware({ invalidClaimStatusCode: 401 })).toThrow(
      new TypeError(
        "latchkey: option invalidClaimStatusCode must be a 4xx status other than 401 (got 401): " +
          "the frontend SDK refreshes the session on 401, so an invalid claim must answer something else.",
      ),
    );
  });
});
