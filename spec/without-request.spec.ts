// Issue #14, item 3 (DESIGN §6.4): sessions without Express's request and response —
// getSessionWithoutRequestResponse, createNewSessionWithoutRequestResponse and
// refreshSessionWithoutRequestResponse, on the middleware value and on sessionManager(),
// with verification, revocation, claims and theft detection exactly as over HTTP, and no
// CSRF check (there is no browser form to forge; a WebSocket upgrade checks Origin itself).
import { createPrivateKey, generateKeyPairSync, randomBytes, sign as signRaw } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";
import {
  BooleanClaim,
  PrimitiveArrayClaim,
  SESSION_ERRORS,
  SessionError,
  sessionManager,
  type Session,
  type SessionManagement,
  type SessionMiddlewareOptions,
} from "../lib";
import {
  accessCookie,
  createApp,
  decodeFrontToken,
  decodeJwtPart,
  describeEachStore,
  fakeClock,
  login,
  refreshCookie,
  request,
  tokensOf,
  type TestApp,
} from "./helpers";

const REFRESH = "/auth/session/refresh";
const HANDLE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ACCESS_TTL_S = 15 * 60;

/** What a promise of the no-request API came to: the session's handle, or the error's code. */
async function outcome(promise: Promise<Session | undefined>): Promise<string> {
  try {
    const session = await promise;
    return session ? `session ${session.handle}` : "no session";
  } catch (error) {
    if (error instanceof SessionError) return error.code;
    throw error;
  }
}

/** The SessionError a promise rejects with (fails the test if it resolves or rejects otherwise). */
async function rejection(promise: Promise<unknown>): Promise<SessionError> {
  const error = await promise.then(
    () => new Error("expected a rejection, but it resolved"),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SessionError);
  return error as SessionError;
}

/** The same, for an HTTP answer of the fixture's `/api/me` (or `/api/optional`). */
function httpOutcome(res: { status: number; body: { message?: string; handle?: string; userId?: string | null } }): string {
  if (res.status === 200) return res.body.userId === null ? "no session" : `session ${res.body.handle}`;
  const code = (Object.keys(SESSION_ERRORS) as (keyof typeof SESSION_ERRORS)[]).find(
    (name) => SESSION_ERRORS[name].status === res.status && SESSION_ERRORS[name].message === res.body.message,
  );
  return code ?? `HTTP ${res.status}`;
}

/** Replaces the payload of a JWT, keeping header and signature (a forgery by editing). */
function withEditedPayload(token: string, edit: (claims: Record<string, unknown>) => void): string {
  const [header, , signature] = token.split(".");
  const claims = decodeJwtPart(token, 1);
  edit(claims);
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
}

const P256_ORDER = BigInt("0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");

/** A token with latchkey's header (kid, typ, alg) and claims, signed by a key that is not latchkey's (low-S, canonical). */
function signedByAnotherKey(token: string, edit: (claims: Record<string, unknown>) => void = () => {}): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const header = Buffer.from(JSON.stringify(decodeJwtPart(token, 0))).toString("base64url");
  const claims = decodeJwtPart(token, 1);
  edit(claims);
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`;
  const raw = signRaw("sha256", Buffer.from(input), { key: createPrivateKey(privateKey.export({ format: "pem", type: "pkcs8" })), dsaEncoding: "ieee-p1363" });
  let s = BigInt(`0x${raw.subarray(32).toString("hex")}`);
  if (s > P256_ORDER / 2n) s = P256_ORDER - s;
  const signature = Buffer.concat([raw.subarray(0, 32), Buffer.from(s.toString(16).padStart(64, "0"), "hex")]);
  return `${input}.${signature.toString("base64url")}`;
}

/** A refresh token of latchkey's shape for a real handle, but guessed: nothing of the session's secret in it. */
function guessedRefreshToken(handle: string): string {
  return `${handle}.${randomBytes(16).toString("base64url")}.${randomBytes(32).toString("base64url")}`;
}

describeEachStore("sessions without a request", (stores) => {
  // The MySQL store stamps rotations on the database's clock, which runs on in real time while
  // the spec's clock stands still: a few milliseconds apart there, exact on the memory store.
  const stamped = (ms: number): unknown => (stores.kind === "mysql" ? expect.closeTo(ms, -3) : ms);
  let clock: ReturnType<typeof fakeClock>;
  let fixture: TestApp;
  let t0: number;
  const extra: { close(): Promise<void> }[] = [];

  function app(options: SessionMiddlewareOptions = {}): TestApp {
    const made = createApp({ store: stores.create(), clock: clock.now, refreshGrace: "10s", ...options });
    extra.push(made.sessions);
    return made;
  }

  beforeEach(() => {
    clock = fakeClock();
    t0 = clock.now();
    fixture = app();
  });

  afterEach(async () => {
    for (const closable of extra.splice(0)) await closable.close().catch(() => {});
  });

  describe("createNewSessionWithoutRequestResponse", () => {
    it("resolves to { session, accessToken, refreshToken, frontToken }, tokens the HTTP paths accept", async () => {
      const created = await fixture.sessions.createNewSessionWithoutRequestResponse("ws-user", {
        accessTokenPayload: { role: "admin" },
        sessionData: { plan: "pro" },
      });

      expect(Object.keys(created).sort()).toEqual(["accessToken", "accessTokenExpiresAt", "frontToken", "persistent", "refreshToken", "refreshTokenExpiresAt", "session"]);
      const { session, accessToken, refreshToken, frontToken } = created;
      expect(session.handle).toMatch(HANDLE);
      expect([session.userId, { ...session.accessTokenPayload }, session.expiresAt]).toEqual(["ws-user", { role: "admin" }, t0 + ACCESS_TTL_S * 1000]);
      expect(decodeJwtPart(accessToken, 1)).toEqual(
        expect.objectContaining({ sub: "ws-user", sid: session.handle, role: "admin", iat: t0 / 1000, exp: t0 / 1000 + ACCESS_TTL_S }),
      );
      expect(refreshToken.startsWith(`${session.handle}.`)).toBe(true);
      const front = decodeFrontToken(frontToken);
      expect([front.uid, front.ate, front.up.role]).toEqual(["ws-user", (t0 / 1000 + ACCESS_TTL_S) * 1000, "admin"]);
      expect(session.getAllSessionTokensDangerously()).toEqual({ accessToken, refreshToken, frontToken, accessAndFrontTokenUpdated: false });

      expect(fixture.events.created).toEqual([
        { handle: session.handle, userId: "ws-user", ip: null, userAgent: null, clientIp: null, clientUserAgent: null, at: t0 },
      ]);
      expect(await fixture.sessions.getSessionInformation(session.handle)).toEqual(
        expect.objectContaining({ userId: "ws-user", sessionData: { plan: "pro" }, accessTokenPayload: { role: "admin" }, ip: null, userAgent: null, persistent: true, createdAt: t0 }),
      );
      expect(await session.getSessionData()).toEqual({ plan: "pro" });

      const me = await request(fixture.app).get("/api/strict").set("Cookie", accessCookie(accessToken)).expect(200);
      expect(me.body).toEqual({ userId: "ws-user", handle: session.handle, payload: { role: "admin" }, expiresAt: session.expiresAt });
      await request(fixture.app).get("/api/me").set("Authorization", `Bearer ${accessToken}`).expect(200);
      clock.advance(1000);
      const refreshed = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(refreshToken)).expect(200);
      expect(decodeFrontToken(refreshed.headers["front-token"] as string).uid).toBe("ws-user");
    });

    it("says how long the cookies should live, as res.createSession sets them (issue 20 item 6)", async () => {
      const remembered = await fixture.sessions.createNewSessionWithoutRequestResponse("u1");
      expect([remembered.accessTokenExpiresAt, remembered.refreshTokenExpiresAt, remembered.persistent]).toEqual([t0 + ACCESS_TTL_S * 1000, t0 + 30 * 86_400_000, true]);
      const browser = await fixture.sessions.createNewSessionWithoutRequestResponse("u2", { rememberMe: false });
      expect([browser.refreshTokenExpiresAt, browser.persistent]).toEqual([t0 + 12 * 3_600_000, false]);
      const short = await fixture.sessions.createNewSessionWithoutRequestResponse("u3", { sessionTtl: { idle: "1h" } });
      expect(short.refreshTokenExpiresAt).toBe(t0 + 3_600_000);
      clock.advance(60_000);
      const refreshed = await fixture.sessions.refreshSessionWithoutRequestResponse(short.refreshToken);
      expect([refreshed.refreshTokenExpiresAt, refreshed.persistent, refreshed.accessTokenExpiresAt]).toEqual([t0 + 60_000 + 3_600_000, true, t0 + 60_000 + ACCESS_TTL_S * 1000]);
    });

    it("records the device it is told of, in listSessions and the events, as for an HTTP request", async () => {
      const created = await fixture.sessions.createNewSessionWithoutRequestResponse("dev", { ip: "203.0.113.7", userAgent: "ws-client/1.0" });
      expect(fixture.events.created).toEqual([expect.objectContaining({ ip: "203.0.113.7", userAgent: "ws-client/1.0", clientIp: "203.0.113.7", clientUserAgent: "ws-client/1.0" })]);
      clock.advance(1000);
      await fixture.sessions.refreshSessionWithoutRequestResponse(created.refreshToken, { ip: "198.51.100.9", userAgent: "ws-client/2.0" });
      const [listed] = await fixture.sessions.listSessions("dev");
      expect(listed).toEqual(expect.objectContaining({ ip: "203.0.113.7", userAgent: "ws-client/1.0", lastIp: "198.51.100.9", lastUserAgent: "ws-client/2.0" }));
      expect(fixture.events.refreshed).toEqual([expect.objectContaining({ clientIp: "198.51.100.9", clientUserAgent: "ws-client/2.0" })]);
      await expect(fixture.sessions.createNewSessionWithoutRequestResponse("dev", { ip: 42 as never })).rejects.toThrow("latchkey: option ip must be a string (got number).");
    });

    it("refuses what res.createSession refuses, having written nothing", async () => {
      await expect(fixture.sessions.createNewSessionWithoutRequestResponse(42 as never)).rejects.toBeInstanceOf(TypeError);
      await expect(fixture.sessions.createNewSessionWithoutRequestResponse("u", { accessTokenPayload: { sub: "someone-else" } })).rejects.toBeInstanceOf(TypeError);
      expect(await fixture.sessions.getAllSessionHandlesForUser("u")).toEqual([]);
      expect(fixture.events.created).toEqual([]);
    });
  });

  describe("getSessionWithoutRequestResponse", () => {
    it("answers every token exactly as verifySession does", async () => {
      const live = await login(fixture.app, "alice");
      const expiring = await fixture.sessions.createNewSessionWithoutRequestResponse("carol");
      clock.advance((ACCESS_TTL_S + 1) * 1000); // live.access and expiring.accessToken have expired
      const fresh = await login(fixture.app, "alice");
      const revoked = await login(fixture.app, "bob");
      await fixture.sessions.revokeSession(revoked.handle);
      const cases: [string, string, string, string][] = [
        // name, token, answer with sessionRequired (default), answer with sessionRequired: false
        ["a live session's token", fresh.access, `session ${fresh.handle}`, `session ${fresh.handle}`],
        ["an expired token", expiring.accessToken, "TRY_REFRESH_TOKEN", "TRY_REFRESH_TOKEN"],
        ["an expired token from an HTTP login", live.access, "TRY_REFRESH_TOKEN", "TRY_REFRESH_TOKEN"],
        ["a revoked session's token (revoked on this instance)", revoked.access, "UNAUTHORISED", "no session"],
        ["a token with an edited payload", withEditedPayload(fresh.access, (claims) => void (claims.sub = "mallory")), "UNAUTHORISED", "no session"],
        ["a token signed by another key under latchkey's kid", signedByAnotherKey(fresh.access, (claims) => void (claims.sub = "mallory")), "UNAUTHORISED", "no session"],
        ["not a JWT", "not-a-jwt", "UNAUTHORISED", "no session"],
      ];
      for (const [name, token, required, optional] of cases) {
        const overHttp = httpOutcome(await request(fixture.app).get("/api/me").set("Cookie", accessCookie(token)));
        const overHttpOptional = httpOutcome(await request(fixture.app).get("/api/optional").set("Cookie", accessCookie(token)));
        const without = await outcome(fixture.sessions.getSessionWithoutRequestResponse(token));
        const withoutOptional = await outcome(fixture.sessions.getSessionWithoutRequestResponse(token, { sessionRequired: false }));
        expect([name, without, withoutOptional]).toEqual([name, required, optional]);
        expect([name, overHttp, overHttpOptional]).toEqual([name, required, optional]);
      }
      // No token at all.
      for (const missing of ["", undefined]) {
        expect(await outcome(fixture.sessions.getSessionWithoutRequestResponse(missing as never))).toBe("UNAUTHORISED");
        expect(await outcome(fixture.sessions.getSessionWithoutRequestResponse(missing as never, { sessionRequired: false }))).toBe("no session");
      }
    });

    it("rejects with the SessionError the error handler renders (status and body as over HTTP)", async () => {
      const { access } = await login(fixture.app, "alice");
      clock.advance((ACCESS_TTL_S + 1) * 1000);
      const error = await rejection(fixture.sessions.getSessionWithoutRequestResponse(access));
      expect([error.code, error.status, error.toBody()]).toEqual([
        "TRY_REFRESH_TOKEN",
        401,
        { message: "try refresh token" },
      ]);
    });

    it("resolves to a Session like req.session: identity, payload, session data, revoke()", async () => {
      const { access, handle } = await login(fixture.app, "alice", { payload: { tier: "gold" }, data: { cart: 3 } });
      const session = await fixture.sessions.getSessionWithoutRequestResponse(access);
      expect([session.userId, session.handle, { ...session.accessTokenPayload }]).toEqual(["alice", handle, { tier: "gold" }]);
      expect(await session.getSessionData()).toEqual({ cart: 3 });
      expect(session.getAllSessionTokensDangerously()).toEqual({ accessToken: access, refreshToken: undefined, frontToken: expect.any(String), accessAndFrontTokenUpdated: false });

      await session.revoke();
      expect(fixture.events.revoked).toEqual([expect.objectContaining({ handle, reason: "sign-out", clientIp: null, clientUserAgent: null })]);
      await request(fixture.app).get("/api/me").set("Cookie", accessCookie(access)).expect(401);
      expect(await outcome(fixture.sessions.getSessionWithoutRequestResponse(access))).toBe("UNAUTHORISED");
    });

    it("checkDatabase: true sees a revocation made by another instance at once", async () => {
      const [storeA, storeB] = stores.pair();
      const a = app({ store: storeA });
      const b = sessionManager({ store: storeB, clock: clock.now, logger: false });
      extra.push(b);
      const { access, handle } = await login(a.app, "alice");
      expect(await outcome(b.getSessionWithoutRequestResponse(access, { checkDatabase: true }))).toBe(`session ${handle}`);
      await a.sessions.revokeSession(handle);
      expect(await outcome(b.getSessionWithoutRequestResponse(access, { checkDatabase: true }))).toBe("UNAUTHORISED");
      // Having read the revoked row, that instance refuses the token without the database too.
      expect(await outcome(b.getSessionWithoutRequestResponse(access))).toBe("UNAUTHORISED");
    });

    it("has no CSRF check: a token the HTTP path refuses for its Origin is accepted, as a bearer token is over HTTP", async () => {
      const { access, handle } = await login(fixture.app, "alice");
      const forged = await request(fixture.app).post("/api/me").set("Origin", "https://evil.example").set("Cookie", accessCookie(access)).expect(401);
      expect(forged.body).toEqual({ message: "try refresh token" });
      await request(fixture.app).post("/api/me").set("Origin", "https://evil.example").set("Authorization", `Bearer ${access}`).expect(200);
      expect(await outcome(fixture.sessions.getSessionWithoutRequestResponse(access))).toBe(`session ${handle}`);
    });

    describe("claims", () => {
      let verified: Record<string, boolean>;
      let roles: Record<string, string[]>;
      let fetches: string[];
      const EmailVerified = new BooleanClaim({ key: "st-ev", fetchValue: (userId) => (fetches.push(`st-ev:${userId}`), verified[userId] ?? false) });
      const Roles = new PrimitiveArrayClaim<string>({
        key: "st-role",
        fetchValue: (userId) => (fetches.push(`st-role:${userId}`), roles[userId] ?? []),
        defaultMaxAgeInSeconds: 300,
      });

      beforeEach(() => {
        verified = { alice: true, bob: false };
        roles = { alice: ["user"], bob: ["user"] };
        fetches = [];
        fixture = app({ claims: [EmailVerified, Roles], globalClaimValidators: [EmailVerified.validators.isTrue()] });
      });

      it("runs the global validators, and overrideGlobalClaimValidators replaces them, with the bodies the HTTP path sends", async () => {
        const alice = await fixture.sessions.createNewSessionWithoutRequestResponse("alice");
        const bob = await fixture.sessions.createNewSessionWithoutRequestResponse("bob");
        expect(await outcome(fixture.sessions.getSessionWithoutRequestResponse(alice.accessToken))).toBe(`session ${alice.session.handle}`);

        const unverified = await rejection(fixture.sessions.getSessionWithoutRequestResponse(bob.accessToken));
        expect([unverified.code, unverified.status, unverified.toBody()]).toEqual([
          "INVALID_CLAIM",
          403,
          { message: "invalid claim", claimValidationErrors: [{ id: "st-ev", reason: { message: "wrong value", expectedValue: true, actualValue: false } }] },
        ]);
        const overHttp = await request(fixture.app).get("/api/me").set("Cookie", accessCookie(bob.accessToken)).expect(403);
        expect(overHttp.body).toEqual(unverified.toBody());

        const notAdmin = await rejection(
          fixture.sessions.getSessionWithoutRequestResponse(alice.accessToken, { overrideGlobalClaimValidators: (globals) => [...globals, Roles.validators.includes("admin")] }),
        );
        expect([notAdmin.code, notAdmin.claimValidationErrors]).toEqual([
          "INVALID_CLAIM",
          [{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } }],
        ]);
        const withoutGlobals = await fixture.sessions.getSessionWithoutRequestResponse(bob.accessToken, { overrideGlobalClaimValidators: () => [] });
        expect(withoutGlobals.userId).toBe("bob");
      });

      it("refetches a stale claim, stores it and re-signs the token, handed over by getAllSessionTokensDangerously()", async () => {
        const alice = await fixture.sessions.createNewSessionWithoutRequestResponse("alice");
        expect(fetches.sort()).toEqual(["st-ev:alice", "st-role:alice"]);
        fetches = [];
        roles.alice = ["user", "admin"];
        clock.advance(301_000); // the roles claim is older than its 300 s max age

        const session = await fixture.sessions.getSessionWithoutRequestResponse(alice.accessToken, {
          overrideGlobalClaimValidators: (globals) => [...globals, Roles.validators.includes("admin")],
        });

        expect(fetches).toEqual(["st-role:alice"]);
        expect(session.getClaimValue(Roles)).toEqual(["user", "admin"]);
        const tokens = session.getAllSessionTokensDangerously();
        expect(tokens.accessAndFrontTokenUpdated).toBe(true);
        expect(tokens.accessToken).not.toBe(alice.accessToken);
        expect(decodeJwtPart(tokens.accessToken, 1)["st-role"]).toEqual({ v: ["user", "admin"], t: clock.now() });
        // Re-signed with the same expiry (a payload change does not extend the token).
        expect(decodeJwtPart(tokens.accessToken, 1).exp).toBe(decodeJwtPart(alice.accessToken, 1).exp);
        expect(decodeFrontToken(tokens.frontToken).up["st-role"]).toEqual({ v: ["user", "admin"], t: clock.now() });
        // Stored: the next refresh carries it, without fetching again.
        const refreshed = await fixture.sessions.refreshSessionWithoutRequestResponse(alice.refreshToken);
        expect(refreshed.session.getClaimValue(Roles)).toEqual(["user", "admin"]);
        expect(fetches).toEqual(["st-role:alice"]);
        // And the re-signed token is accepted over HTTP.
        await request(fixture.app).get("/api/me").set("Cookie", accessCookie(tokens.accessToken)).expect(200);
      });
    });
  });

  describe("refreshSessionWithoutRequestResponse", () => {
    it("rotates the refresh token and issues a new access token, as the refresh endpoint does", async () => {
      const { refresh, handle, access } = await login(fixture.app, "alice", { payload: { tier: "gold" } });
      clock.advance(60_000);

      const refreshed = await fixture.sessions.refreshSessionWithoutRequestResponse(refresh);

      expect(Object.keys(refreshed).sort()).toEqual(["accessToken", "accessTokenExpiresAt", "frontToken", "persistent", "refreshToken", "refreshTokenExpiresAt", "session"]);
      expect([refreshed.session.handle, refreshed.session.userId, { ...refreshed.session.accessTokenPayload }]).toEqual([handle, "alice", { tier: "gold" }]);
      expect(refreshed.refreshToken).not.toBe(refresh);
      expect(refreshed.refreshToken.startsWith(`${handle}.`)).toBe(true);
      expect(refreshed.accessToken).not.toBe(access);
      expect(decodeJwtPart(refreshed.accessToken, 1)).toEqual(expect.objectContaining({ sub: "alice", sid: handle, iat: clock.now() / 1000, exp: clock.now() / 1000 + ACCESS_TTL_S }));
      expect(decodeFrontToken(refreshed.frontToken)).toEqual({ uid: "alice", ate: clock.now() + ACCESS_TTL_S * 1000, up: expect.objectContaining({ tier: "gold", sid: handle }) });
      expect(refreshed.session.getAllSessionTokensDangerously()).toEqual({
        accessToken: refreshed.accessToken,
        refreshToken: refreshed.refreshToken,
        frontToken: refreshed.frontToken,
        accessAndFrontTokenUpdated: false,
      });
      expect(fixture.events.refreshed).toEqual([{ handle, userId: "alice", ip: expect.any(String), userAgent: null, clientIp: null, clientUserAgent: null, at: clock.now() }]);
      expect(await fixture.sessions.getSessionInformation(handle)).toEqual(expect.objectContaining({ lastRefreshedAt: clock.now(), expiresAt: clock.now() + 30 * 24 * 3_600_000 }));

      // Its tokens work over HTTP; and the HTTP rotation continues the same chain.
      await request(fixture.app).get("/api/strict").set("Cookie", accessCookie(refreshed.accessToken)).expect(200);
      clock.advance(60_000);
      const overHttp = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(refreshed.refreshToken)).expect(200);
      clock.advance(60_000);
      const again = await fixture.sessions.refreshSessionWithoutRequestResponse(tokensOf(overHttp).refresh);
      expect(again.session.handle).toBe(handle);
      expect(fixture.events.theft).toEqual([]);
    });

    it("within the grace window, the previous token earns the same successor again (an honest race), as over HTTP", async () => {
      const created = await fixture.sessions.createNewSessionWithoutRequestResponse("alice");
      clock.advance(1000);
      const first = await fixture.sessions.refreshSessionWithoutRequestResponse(created.refreshToken);
      clock.advance(9000); // 9 s after the rotation, inside the 10 s grace
      const second = await fixture.sessions.refreshSessionWithoutRequestResponse(created.refreshToken);
      expect(second.refreshToken).toBe(first.refreshToken);
      const overHttp = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(created.refreshToken)).expect(200);
      expect(tokensOf(overHttp).refresh).toBe(first.refreshToken);
      expect(fixture.events.theft).toEqual([]);
      expect((await fixture.sessions.getSessionInformation(created.session.handle))?.revokedAt).toBeNull();
    });

    it("keeps theft detection: the old token after the grace window rejects TOKEN_THEFT_DETECTED and the session is revoked for HTTP too", async () => {
      const created = await fixture.sessions.createNewSessionWithoutRequestResponse("alice");
      clock.advance(1000);
      const current = await fixture.sessions.refreshSessionWithoutRequestResponse(created.refreshToken);
      // Just past the 10 s grace. On MySQL the grace window reads the database's clock (CS1),
      // which a busy event loop can read some milliseconds apart from the spec's: a second's margin.
      const past = stores.kind === "mysql" ? 11_000 : 10_001;
      clock.advance(past);

      const theft = await rejection(fixture.sessions.refreshSessionWithoutRequestResponse(created.refreshToken));

      expect(theft).toBeInstanceOf(SessionError);
      expect([theft.code, theft.status, theft.toBody()]).toEqual(["TOKEN_THEFT_DETECTED", 401, { message: "token theft detected" }]);
      const handle = created.session.handle;
      const event = { handle, userId: "alice", ip: null, userAgent: null, clientIp: null, clientUserAgent: null, at: clock.now() };
      expect(fixture.events.theft).toEqual([{ ...event, holderIp: null, holderUserAgent: null, supersededAt: stamped(clock.now() - past), replayed: "previous" }]);
      expect(fixture.events.revoked).toEqual([{ ...event, reason: "theft" }]);
      expect((await fixture.sessions.getSessionInformation(handle))?.revokedAt).toBe(clock.now());
      // Over HTTP: the current access token is refused at once, with and without the database...
      expect((await request(fixture.app).get("/api/me").set("Cookie", accessCookie(current.accessToken)).expect(401)).body).toEqual({ message: "unauthorised" });
      await request(fixture.app).get("/api/strict").set("Cookie", accessCookie(current.accessToken)).expect(401);
      // ...and so is the current refresh token, over HTTP and without a request.
      expect((await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(current.refreshToken)).expect(401)).body).toEqual({ message: "unauthorised" });
      expect(await outcome(fixture.sessions.refreshSessionWithoutRequestResponse(current.refreshToken).then((r) => r.session))).toBe("UNAUTHORISED");
      expect(await outcome(fixture.sessions.getSessionWithoutRequestResponse(current.accessToken))).toBe("UNAUTHORISED");
      expect(fixture.events.theft).toHaveLength(1);
    });

    it("detects a token several rotations old across the two paths, whichever path presents it", async () => {
      // Rotated over HTTP, the stale token presented without a request.
      const viaHttp = await login(fixture.app, "alice");
      let token = viaHttp.refresh;
      for (let i = 0; i < 2; i++) {
        clock.advance(1000);
        token = tokensOf(await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token)).expect(200)).refresh;
      }
      expect(await outcome(fixture.sessions.refreshSessionWithoutRequestResponse(viaHttp.refresh).then((r) => r.session))).toBe("TOKEN_THEFT_DETECTED");
      expect(fixture.events.revoked.map((event) => [event.handle, event.reason])).toEqual([[viaHttp.handle, "theft"]]);

      // Rotated without a request, the stale token presented over HTTP after the window.
      const created = await fixture.sessions.createNewSessionWithoutRequestResponse("bob");
      clock.advance(1000);
      const current = await fixture.sessions.refreshSessionWithoutRequestResponse(created.refreshToken);
      clock.advance(60_000);
      const res = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(created.refreshToken)).expect(401);
      expect(res.body).toEqual({ message: "token theft detected" });
      expect(await outcome(fixture.sessions.refreshSessionWithoutRequestResponse(current.refreshToken).then((r) => r.session))).toBe("UNAUTHORISED");
      expect(fixture.events.revoked.map((event) => [event.handle, event.reason])).toEqual([
        [viaHttp.handle, "theft"],
        [created.session.handle, "theft"],
      ]);
    });

    it("refuses unknown, guessed, malformed, revoked and expired refresh tokens with UNAUTHORISED, revoking nothing for a guess", async () => {
      const live = await fixture.sessions.createNewSessionWithoutRequestResponse("alice");
      const signedOut = await fixture.sessions.createNewSessionWithoutRequestResponse("bob");
      const short = await fixture.sessions.createNewSessionWithoutRequestResponse("carol", { sessionTtl: { idle: "1h", absolute: "1h" } });
      await fixture.sessions.revokeSession(signedOut.session.handle);
      clock.advance(3_600_000);
      const refusals = [
        guessedRefreshToken(live.session.handle),
        guessedRefreshToken("00000000-0000-4000-8000-000000000000"),
        "garbage",
        "",
        signedOut.refreshToken,
        short.refreshToken,
      ];
      for (const token of refusals) {
        const result = await rejection(fixture.sessions.refreshSessionWithoutRequestResponse(token));
        expect([token, result.code, result.status]).toEqual([token, "UNAUTHORISED", 401]);
      }
      expect(fixture.events.theft).toEqual([]);
      expect((await fixture.sessions.getSessionInformation(live.session.handle))?.revokedAt).toBeNull();
      await fixture.sessions.refreshSessionWithoutRequestResponse(live.refreshToken);
    });
  });

  describe("on sessionManager()", () => {
    it("offers the three calls on the same store as the middleware, interchangeably with HTTP", async () => {
      const [storeA, storeB] = stores.pair();
      const web = app({ store: storeA });
      const events: string[] = [];
      const manager: SessionManagement = sessionManager({
        store: storeB,
        clock: clock.now,
        refreshGrace: "10s",
        logger: false,
        onTheftDetected: (event) => void events.push(`theft ${event.handle}`),
        onRevoked: (event) => void events.push(`revoked ${event.handle} ${event.reason}`),
      });
      extra.push(manager);

      const created = await manager.createNewSessionWithoutRequestResponse("script-user", { accessTokenPayload: { via: "manager" } });
      const me = await request(web.app).get("/api/strict").set("Cookie", accessCookie(created.accessToken)).expect(200);
      expect(me.body).toEqual(expect.objectContaining({ userId: "script-user", handle: created.session.handle, payload: { via: "manager" } }));

      const viaHttp = await login(web.app, "alice");
      expect(await outcome(manager.getSessionWithoutRequestResponse(viaHttp.access))).toBe(`session ${viaHttp.handle}`);
      clock.advance(1000);
      const refreshed = await manager.refreshSessionWithoutRequestResponse(viaHttp.refresh);
      await request(web.app).get("/api/strict").set("Cookie", accessCookie(refreshed.accessToken)).expect(200);

      clock.advance(60_000);
      expect(await outcome(manager.refreshSessionWithoutRequestResponse(viaHttp.refresh).then((r) => r.session))).toBe("TOKEN_THEFT_DETECTED");
      expect(events.sort()).toEqual([`revoked ${viaHttp.handle} theft`, `theft ${viaHttp.handle}`]);
      await request(web.app).get("/api/strict").set("Cookie", accessCookie(refreshed.accessToken)).expect(401);
      expect((await request(web.app).post(REFRESH).set("Cookie", refreshCookie(refreshed.refreshToken)).expect(401)).body).toEqual({ message: "unauthorised" });
    });

    it("a fresh sessionManager() refuses, on its very first call, a token revoked before it started (no checkDatabase)", async () => {
      const [storeA, storeB] = stores.pair();
      const web = app({ store: storeA });
      const { access, handle } = await login(web.app, "alice");
      const kept = await login(web.app, "bob");
      await web.sessions.revokeSession(handle);
      const late = sessionManager({ store: storeB, clock: clock.now, logger: false });
      extra.push(late);
      expect(await outcome(late.getSessionWithoutRequestResponse(access))).toBe("UNAUTHORISED");
      expect(await outcome(late.getSessionWithoutRequestResponse(kept.access))).toBe(`session ${kept.handle}`);
    });
  });

  describe("authenticating a WebSocket upgrade", () => {
    /*
     * The recipe. A browser sends its cookies with the upgrade request of a WebSocket to
     * its own origin, so the HttpOnly `sAccessToken` cookie arrives in the `Cookie` header
     * and no token ever goes into a URL (where it would be logged) or into page script.
     * (A client that holds its token in header mode sends it the same way:
     * `new WebSocket(url, { headers: { Cookie: "sAccessToken=..." } })` from Node.)
     *
     *   server.on("upgrade", async (req, socket, head) => {
     *     // 1. Origin: a WebSocket is not covered by CORS or by latchkey's CSRF check, and a
     *     //    page on a sibling subdomain would send the cookie too (cross-site WebSocket hijacking).
     *     // 2. The access token from the cookie, verified as verifySession would
     *     //    (checkDatabase: true is one primary-key read per connection: zero-lag revocation).
     *     // 3. Refused: an HTTP answer on the raw socket (401 with the body the SDK knows, so the
     *     //    page can refresh and reconnect), then close it. Accepted: wss.handleUpgrade.
     *   });
     *
     * A long-lived connection should also be closed when its session ends (check again
     * periodically, or close on onRevoked); that is beyond the upgrade.
     */
    let server: http.Server;
    let wss: WebSocketServer;
    let origin: string;
    let url: string;

    function readCookie(header: string | undefined, name: string): string | undefined {
      for (const part of (header ?? "").split(";")) {
        const eq = part.indexOf("=");
        if (eq !== -1 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
      }
      return undefined;
    }

    function refuse(socket: import("node:stream").Duplex, status: number, body: unknown): void {
      const text = JSON.stringify(body);
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    }

    function listen(sessions: SessionManagement, fixtureApp: TestApp["app"]): Promise<void> {
      server = http.createServer(fixtureApp);
      wss = new WebSocketServer({ noServer: true });
      server.on("upgrade", async (req: http.IncomingMessage, socket, head) => {
        socket.on("error", () => {});
        if (req.headers.origin !== undefined && req.headers.origin !== origin) return refuse(socket, 403, { message: "cross-origin request refused" });
        const token = readCookie(req.headers.cookie, "__Host-sAccessToken") ?? readCookie(req.headers.cookie, "sAccessToken");
        let session: Session;
        try {
          session = await sessions.getSessionWithoutRequestResponse(token as string, { checkDatabase: true });
        } catch (error) {
          if (error instanceof SessionError) return refuse(socket, error.status, error.toBody());
          return refuse(socket, 500, { message: "internal error" });
        }
        wss.handleUpgrade(req, socket, head, (ws) => {
          ws.send(JSON.stringify({ hello: session.userId, handle: session.handle }));
          wss.emit("connection", ws, req);
        });
      });
      return new Promise((resolve) =>
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo;
          origin = `http://127.0.0.1:${port}`;
          url = `ws://127.0.0.1:${port}/live`;
          resolve();
        }),
      );
    }

    /** Opens a WebSocket; resolves to its first message, or to the refused upgrade's status and body. */
    function connect(headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
      return new Promise((resolve, reject) => {
        const ws = new WebSocket(url, { headers });
        ws.on("unexpected-response", (_req, res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => void (text += chunk));
          res.on("end", () => {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
            ws.terminate();
          });
        });
        ws.on("message", (data) => {
          resolve({ status: 101, body: JSON.parse(String(data)) });
          ws.close();
        });
        ws.on("error", reject);
      });
    }

    beforeEach(() => listen(fixture.sessions, fixture.app));

    afterEach(async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it("accepts a valid access token from the cookie header", async () => {
      const { access, handle } = await login(fixture.app, "ws-user");
      expect(await connect({ Cookie: `${accessCookie(access)}; theme=dark`, Origin: origin })).toEqual({ status: 101, body: { hello: "ws-user", handle } });
      // One from createNewSessionWithoutRequestResponse, from a non-browser client (no Origin).
      const created = await fixture.sessions.createNewSessionWithoutRequestResponse("bot");
      expect(await connect({ Cookie: accessCookie(created.accessToken) })).toEqual({ status: 101, body: { hello: "bot", handle: created.session.handle } });
    });

    it("refuses the upgrade with 401 for no token, a forged, an expired or a revoked one, and 403 for another origin", async () => {
      const alice = await login(fixture.app, "alice");
      const bob = await login(fixture.app, "bob");
      expect(await connect({ Origin: origin })).toEqual({ status: 401, body: { message: "unauthorised" } });
      expect(await connect({ Cookie: accessCookie(withEditedPayload(alice.access, (claims) => void (claims.sub = "bob"))) })).toEqual({
        status: 401,
        body: { message: "unauthorised" },
      });
      expect(await connect({ Cookie: accessCookie(signedByAnotherKey(alice.access)) })).toEqual({ status: 401, body: { message: "unauthorised" } });
      expect(await connect({ Cookie: accessCookie(alice.access), Origin: "https://evil.example" })).toEqual({
        status: 403,
        body: { message: "cross-origin request refused" },
      });

      await fixture.sessions.revokeSession(bob.handle);
      expect(await connect({ Cookie: accessCookie(bob.access) })).toEqual({ status: 401, body: { message: "unauthorised" } });

      clock.advance((ACCESS_TTL_S + 1) * 1000);
      // Expired: "try refresh token" tells the page to refresh, then reconnect with the new cookie.
      expect(await connect({ Cookie: accessCookie(alice.access) })).toEqual({ status: 401, body: { message: "try refresh token" } });
      const refreshed = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(alice.refresh)).expect(200);
      expect(await connect({ Cookie: accessCookie(tokensOf(refreshed).access) })).toEqual({ status: 101, body: { hello: "alice", handle: alice.handle } });
    });

    it("refuses a session revoked by theft detection in a no-request refresh", async () => {
      const created = await fixture.sessions.createNewSessionWithoutRequestResponse("carol");
      clock.advance(1000);
      const current = await fixture.sessions.refreshSessionWithoutRequestResponse(created.refreshToken);
      expect((await connect({ Cookie: accessCookie(current.accessToken) })).status).toBe(101);
      clock.advance(30_000);
      await expect(fixture.sessions.refreshSessionWithoutRequestResponse(created.refreshToken)).rejects.toMatchObject({ code: "TOKEN_THEFT_DETECTED" });
      expect(await connect({ Cookie: accessCookie(current.accessToken) })).toEqual({ status: 401, body: { message: "unauthorised" } });
    });
  });
});
