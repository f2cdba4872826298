import { constants, createHmac, createPrivateKey, createPublicKey, createSign, generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";
import { verifySession, type SessionStore } from "../lib";
import { accessCookie, countingStore, createApp, decodeJwtPart, describeEachStore, fakeClock, login, request, type TestApp } from "./helpers";

// verifySession() over real HTTP: the happy path without store I/O, every 401 of DESIGN §2
// with its exact body, optional and database-checked routes, and hostile cookies.

type Message = "unauthorised" | "try refresh token";
const UNAUTHORISED = { message: "unauthorised" };
const TRY_REFRESH = { message: "try refresh token" };
const ACCESS_TTL_MS = 15 * 60_000; // the default accessTokenTtl

/** Everything a forgery needs: a real token, the real key pair and the session it names. */
interface Context {
  token: string;
  kid: string;
  privateKey: KeyObject; // the real signing key, read from the store
  publicJwk: JsonWebKey; // as the JWKS endpoint publishes it
  now: number; // seconds, the frozen clock's
  userId: string;
  handle: string;
}

const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const segments = (token: string) => token.split(".") as [string, string, string];

/** Signs header and payload exactly as given: jsonwebtoken would rewrite the header. */
function signRaw(header: Record<string, unknown>, payload: unknown, sign: (input: string) => string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
}
const rsa = (key: KeyObject, digest = "RSA-SHA256") => (input: string) => createSign(digest).update(input).sign(key).toString("base64url");
const pss = (key: KeyObject) => (input: string) =>
  createSign("RSA-SHA256").update(input).sign({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString("base64url");
const hmac = (secret: string | Buffer) => (input: string) => createHmac("sha256", secret).update(input).digest("base64url");

const validClaims = (c: Context, extra: Record<string, unknown> = {}) => ({ sub: c.userId, sid: c.handle, iat: c.now, exp: c.now + 600, iss: "latchkey", ...extra });
const without = (claims: Record<string, unknown>, name: string) => Object.fromEntries(Object.entries(claims).filter(([key]) => key !== name));
/** A token the server itself could have signed: real key, real kid, RS256, at+jwt. */
const signReal = (c: Context, payload: unknown, header: Record<string, unknown> = {}) =>
  signRaw({ alg: "RS256", typ: "at+jwt", kid: c.kid, ...header }, payload, rsa(c.privateKey));
const publicPem = (c: Context, type: "spki" | "pkcs1") =>
  createPublicKey({ key: c.publicJwk, format: "jwk" }).export({ type, format: "pem" }).toString();
const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 });

// Each case is the cookie value sent (percent-encoded where the cookie parser would
// otherwise eat the defect) and the 401 body DESIGN §2 prescribes: "try refresh token"
// only where a refresh can help (expired, or a key this instance does not know).
type Case = [label: string, cookieValue: (c: Context) => string, message: Message];
const CASES: Case[] = [
  // Signature
  ["a tampered payload under the original signature", (c) => `${segments(c.token)[0]}.${b64(validClaims(c, { sub: "admin" }))}.${segments(c.token)[2]}`, "unauthorised"],
  ["a stripped signature (header.payload.)", (c) => `${segments(c.token)[0]}.${segments(c.token)[1]}.`, "unauthorised"],
  ["one flipped signature character", (c) => {
    const [h, p, s] = segments(c.token);
    return `${h}.${p}.${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}`;
  }, "unauthorised"],
  ["a signature from a foreign RSA key under the real kid", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: c.kid }, validClaims(c), rsa(attacker.privateKey)), "unauthorised"],
  ["a foreign key embedded as a jwk header", (c) =>
    signRaw({ alg: "RS256", typ: "at+jwt", kid: c.kid, jwk: attacker.publicKey.export({ format: "jwk" }) }, validClaims(c), rsa(attacker.privateKey)), "unauthorised"],
  // alg none, with no signature and with one (so the algorithm check itself is reached)
  ...(["none", "None", "NONE", "nOnE"] as const).flatMap((alg): Case[] => [
    [`alg ${alg} with an empty signature`, (c) => `${b64({ alg, typ: "at+jwt", kid: c.kid })}.${b64(validClaims(c))}.`, "unauthorised"],
    [`alg ${alg} with the original signature`, (c) => `${b64({ alg, typ: "at+jwt", kid: c.kid })}.${b64(validClaims(c))}.${segments(c.token)[2]}`, "unauthorised"],
  ]),
  // Algorithm confusion: the published public key used as an HMAC secret
  ["HS256 keyed with the JWKS public key as SPKI PEM", (c) => signRaw({ alg: "HS256", typ: "at+jwt", kid: c.kid }, validClaims(c), hmac(publicPem(c, "spki"))), "unauthorised"],
  ["HS256 keyed with the JWKS public key as PKCS#1 PEM", (c) => signRaw({ alg: "HS256", typ: "at+jwt", kid: c.kid }, validClaims(c), hmac(publicPem(c, "pkcs1"))), "unauthorised"],
  ["HS256 keyed with the JWK JSON text", (c) => signRaw({ alg: "HS256", typ: "at+jwt", kid: c.kid }, validClaims(c), hmac(JSON.stringify(c.publicJwk))), "unauthorised"],
  // Other algorithms with the real key: one key, one algorithm
  ["RS384 signed with the real key", (c) => signRaw({ alg: "RS384", typ: "at+jwt", kid: c.kid }, validClaims(c), rsa(c.privateKey, "RSA-SHA384")), "unauthorised"],
  ["PS256 signed with the real key", (c) => signRaw({ alg: "PS256", typ: "at+jwt", kid: c.kid }, validClaims(c), pss(c.privateKey)), "unauthorised"],
  ["RS256 bytes labelled RS384", (c) => signRaw({ alg: "RS384", typ: "at+jwt", kid: c.kid }, validClaims(c), rsa(c.privateKey)), "unauthorised"],
  // kid: an opaque lookup. A key we do not know may be a newer one: refresh (DESIGN §2)
  ["an unknown kid (real key)", (c) => signReal(c, validClaims(c), { kid: "rs256-unknown" }), "try refresh token"],
  ["an unknown kid (attacker key)", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: "attacker" }, validClaims(c), rsa(attacker.privateKey)), "try refresh token"],
  ["no kid", (c) => signRaw({ alg: "RS256", typ: "at+jwt" }, validClaims(c), rsa(c.privateKey)), "try refresh token"],
  ["a kid holding a path", (c) => signReal(c, validClaims(c), { kid: "../../../../dev/null" }), "try refresh token"],
  ["a kid holding SQL", (c) => signReal(c, validClaims(c), { kid: "x' UNION SELECT '1' -- " }), "try refresh token"],
  ["a kid that is a number", (c) => signReal(c, validClaims(c), { kid: 123 }), "try refresh token"],
  ["a kid that is an object", (c) => signReal(c, validClaims(c), { kid: {} }), "try refresh token"],
  // Longer than any cookie a browser keeps: malformed, refused before the header is read.
  ["a kid of 10 KB", (c) => signReal(c, validClaims(c), { kid: "k".repeat(10_240) }), "unauthorised"],
  // Shape: strict compact JWS only
  ["garbage", () => "garbage", "unauthorised"],
  ["a truncated token", (c) => c.token.slice(0, -40), "unauthorised"],
  ["two segments", (c) => segments(c.token).slice(0, 2).join("."), "unauthorised"],
  ["five segments (JWE compact)", (c) => `${c.token}.AAAA.BBBB`, "unauthorised"],
  ["a trailing space inside the value", (c) => `${c.token}%20`, "unauthorised"],
  ["a trailing newline inside the value", (c) => `${c.token}%0A`, "unauthorised"],
  ["a leading dot", (c) => `.${c.token}`, "unauthorised"],
  ["standard base64 (+ / =) instead of base64url", (c) =>
    segments(c.token).map((part) => Buffer.from(part, "base64url").toString("base64")).join("."), "unauthorised"],
  ["a header that is not JSON", (c) => `${b64("{")}.${segments(c.token)[1]}.${segments(c.token)[2]}`, "unauthorised"],
  // Claims, validly signed with the real key: each defect alone must fail
  ["a missing exp", (c) => signReal(c, without(validClaims(c), "exp")), "unauthorised"],
  ["exp as a string", (c) => signReal(c, validClaims(c, { exp: String(c.now + 600) })), "unauthorised"],
  ["a wrong iss", (c) => signReal(c, validClaims(c, { iss: "https://evil.example" })), "unauthorised"],
  ["no iss", (c) => signReal(c, without(validClaims(c), "iss")), "unauthorised"],
  ["a crit header", (c) => signReal(c, validClaims(c), { crit: ["exp"] }), "unauthorised"],
  ["iat an hour in the future", (c) => signReal(c, validClaims(c, { iat: c.now + 3600 })), "unauthorised"],
  // Past the 5 s leeway but within clock skew a refresh cures (issue 10 item 10); far ahead, a forgery.
  ["iat 6 s in the future (past the 5 s leeway)", (c) => signReal(c, validClaims(c, { iat: c.now + 6 })), "try refresh token"],
  ["iat 301 s in the future (past any clock skew)", (c) => signReal(c, validClaims(c, { iat: c.now + 301, exp: c.now + 900 })), "unauthorised"],
  ["nbf in the future", (c) => signReal(c, validClaims(c, { nbf: c.now + 60 })), "unauthorised"],
  ["typ JWT (another kind of token)", (c) => signReal(c, validClaims(c), { typ: "JWT" }), "unauthorised"],
  ["no typ", (c) => signRaw({ alg: "RS256", kid: c.kid }, validClaims(c), rsa(c.privateKey)), "unauthorised"],
  ["a string payload", (c) => signReal(c, "admin"), "unauthorised"],
  ["a number payload", (c) => signReal(c, 42), "unauthorised"],
  ["an array payload", (c) => signReal(c, [validClaims(c)]), "unauthorised"],
  ["a null payload", (c) => signReal(c, null), "unauthorised"],
  ["a missing sub", (c) => signReal(c, without(validClaims(c), "sub")), "unauthorised"],
  ["a missing sid", (c) => signReal(c, without(validClaims(c), "sid")), "unauthorised"],
  ["a numeric sub", (c) => signReal(c, validClaims(c, { sub: 1 })), "unauthorised"],
  ["an empty sid", (c) => signReal(c, validClaims(c, { sid: "" })), "unauthorised"],
  // Expired, validly signed: the one case where a refresh is the answer
  ["an exp one second in the past", (c) => signReal(c, validClaims(c, { iat: c.now - 900, exp: c.now - 1 })), "try refresh token"],
  ["an exp of exactly now", (c) => signReal(c, validClaims(c, { exp: c.now })), "try refresh token"],
];

/** Store calls a request made; the 2 s revocation poll (DESIGN §3) is timer work, not per request. */
const requestCalls = (calls: string[]) => calls.filter((call) => call !== "listRevokedSince");

/** Logs in on a fresh app with a frozen clock and reads what a forger needs from the store and the JWKS. */
async function forgeryContext(app: TestApp["app"], store: SessionStore, nowMs: number): Promise<Context> {
  const { access, handle } = await login(app, "user-1");
  const kid = decodeJwtPart(access, 0).kid as string;
  const record = (await store.listSigningKeys()).find((key) => key.kid === kid);
  const jwks = await request(app).get("/auth/jwt/jwks.json").expect(200);
  const publicJwk = (jwks.body.keys as JsonWebKey[]).find((key) => key.kid === kid);
  if (!record || !publicJwk) throw new Error(`signing key ${kid} is missing from the store or the JWKS`);
  return { token: access, kid, privateKey: createPrivateKey(record.privateKey), publicJwk, now: Math.floor(nowMs / 1000), userId: "user-1", handle };
}

describeEachStore("verifySession()", (stores) => {
  describe("a valid access token", () => {
    it.each([
      ["with the verified-token cache", {}],
      ["with the cache off (a full signature check each time)", { verifyCacheSize: 0 }],
    ])("answers 200 with the session and touches no store, %s", async (_label, extra) => {
      const clock = fakeClock(Date.now());
      const counted = countingStore(stores.create());
      const { app, handlerCalls } = createApp({ store: counted.store, clock: clock.now, ...extra });
      const { access, handle } = await login(app, "user-1", { payload: { role: "admin", tier: 2 } });
      const second = await login(app, "user-2");
      counted.calls.length = 0;

      // exp is floored from milliseconds: a token never lives longer than its lifetime.
      const exp = Math.floor((clock.now() + ACCESS_TTL_MS) / 1000);
      for (let i = 0; i < 10; i++) {
        const res = await request(app).get("/api/me").set("Cookie", accessCookie(access));
        expect([res.status, res.body]).toEqual([200, { userId: "user-1", handle, payload: { role: "admin", tier: 2 }, expiresAt: exp * 1000 }]);
        expect(res.headers["set-cookie"]).toBeUndefined();
      }
      const other = await request(app).get("/api/me").set("Cookie", accessCookie(second.access));
      expect([other.status, other.body]).toEqual([200, { userId: "user-2", handle: second.handle, payload: {}, expiresAt: exp * 1000 }]);

      expect(handlerCalls.count).toBe(11);
      expect(requestCalls(counted.calls)).toEqual([]);
      // At most one poll fits in these few milliseconds: it does not grow with traffic.
      expect(counted.calls.length).toBeLessThanOrEqual(1);
    });

    it("still verifies until the last second of the token, then answers try refresh token and keeps the cookies", async () => {
      const clock = fakeClock(Math.floor(Date.now() / 1000) * 1000);
      const { app, handlerCalls } = createApp({ store: stores.create(), clock: clock.now });
      const { access } = await login(app);

      clock.advance(ACCESS_TTL_MS - 1000);
      await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
      expect(handlerCalls.count).toBe(1);

      clock.advance(1000); // now == exp: expired (RFC 7519 §4.1.4 "on or after")
      const atExpiry = await request(app).get("/api/me").set("Cookie", accessCookie(access));
      expect([atExpiry.status, atExpiry.body]).toEqual([401, TRY_REFRESH]);

      clock.advance(60 * 60_000);
      const later = await request(app).get("/api/me").set("Cookie", accessCookie(access));
      expect([later.status, later.body]).toEqual([401, TRY_REFRESH]);
      for (const res of [atExpiry, later]) {
        expect(res.headers["set-cookie"]).toBeUndefined(); // cookies kept: the refresh needs them
        expect(res.headers["front-token"]).toBeUndefined();
      }
      expect(handlerCalls.count).toBe(1);
    });
  });

  describe("a request without a token", () => {
    it("answers 401 exactly {message: unauthorised} without calling the handler or setting cookies", async () => {
      const { app, handlerCalls } = createApp({ store: stores.create() });
      const res = await request(app).get("/api/me");
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      expect(res.text).toBe('{"message":"unauthorised"}');
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(handlerCalls.count).toBe(0);
    });
  });

  describe("forged and broken tokens", () => {
    let fixture: TestApp;
    let counted: { store: SessionStore; calls: string[] };
    let context: Context;

    beforeAll(async () => {
      const clock = fakeClock(Date.now());
      counted = countingStore(stores.create());
      // RS256: these forgeries attack RSA (HS256 keyed with the RSA public key, PSS, PKCS#1...).
      fixture = createApp({ store: counted.store, clock: clock.now, algorithm: "RS256" });
      context = await forgeryContext(fixture.app, counted.store, clock.now());
    });

    it("accepts the real token and a token signed like the server would (so each case below fails for its defect alone)", async () => {
      const real = await request(fixture.app).get("/api/me").set("Cookie", accessCookie(context.token));
      expect([real.status, real.body.userId]).toEqual([200, "user-1"]);
      const resigned = await request(fixture.app).get("/api/me").set("Cookie", accessCookie(signReal(context, validClaims(context, { role: "x" }))));
      expect([resigned.status, resigned.body]).toEqual([200, { userId: "user-1", handle: context.handle, payload: { role: "x" }, expiresAt: (context.now + 600) * 1000 }]);
      const skewed = await request(fixture.app).get("/api/me").set("Cookie", accessCookie(signReal(context, validClaims(context, { iat: context.now + 5 }))));
      expect(skewed.status).toBe(200); // within the 5 s iat leeway
    });

    it.each(CASES)("refuses %s with the exact 401 body, no handler call and no store call", async (_label, cookieValue, message) => {
      const calls = fixture.handlerCalls.count;
      counted.calls.length = 0;
      const res = await request(fixture.app).get("/api/me").set("Cookie", accessCookie(cookieValue(context)));
      expect([res.status, res.body]).toEqual([401, { message }]);
      expect(fixture.handlerCalls.count).toBe(calls);
      expect(requestCalls(counted.calls)).toEqual([]);
      if (message === "try refresh token") expect(res.headers["set-cookie"]).toBeUndefined();
    });

    it.each(CASES)("on an optional route, treats %s as anonymous (or asks for a refresh), never as its sub", async (_label, cookieValue, message) => {
      const res = await request(fixture.app).get("/api/optional").set("Cookie", accessCookie(cookieValue(context)));
      if (message === "try refresh token") expect([res.status, res.body]).toEqual([401, TRY_REFRESH]);
      else expect([res.status, res.body]).toEqual([200, { userId: null }]);
    });

    it("refuses a token validly signed for another audience when audience is configured", async () => {
      const clock = fakeClock(Date.now());
      const store = stores.create();
      const { app, handlerCalls } = createApp({ store, clock: clock.now, audience: "web", algorithm: "RS256" });
      const c = await forgeryContext(app, store, clock.now());
      expect(decodeJwtPart(c.token, 1).aud).toBe("web");

      const ok = await request(app).get("/api/me").set("Cookie", accessCookie(signReal(c, validClaims(c, { aud: "web" }))));
      expect(ok.status).toBe(200);
      for (const claims of [validClaims(c, { aud: "mobile" }), validClaims(c), validClaims(c, { aud: ["mobile"] })]) {
        const res = await request(app).get("/api/me").set("Cookie", accessCookie(signReal(c, claims)));
        expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      }
      expect(handlerCalls.count).toBe(1);
    });
  });

  describe("verifySession({ sessionRequired: false })", () => {
    it("passes without a token as anonymous, ignores a forged one, and asks for a refresh of an expired one", async () => {
      const clock = fakeClock(Date.now());
      const { app, handlerCalls } = createApp({ store: stores.create(), clock: clock.now });
      const { access, handle } = await login(app, "user-1");

      const none = await request(app).get("/api/optional");
      expect([none.status, none.body]).toEqual([200, { userId: null }]);

      const [h, , s] = segments(access);
      const forged = `${h}.${b64({ ...decodeJwtPart(access, 1), sub: "admin" })}.${s}`;
      const anonymous = await request(app).get("/api/optional").set("Cookie", accessCookie(forged));
      expect([anonymous.status, anonymous.body]).toEqual([200, { userId: null }]);

      const live = await request(app).get("/api/optional").set("Cookie", accessCookie(access));
      expect([live.status, live.body.userId, live.body.handle]).toEqual([200, "user-1", handle]);

      clock.advance(ACCESS_TTL_MS + 1000);
      const expired = await request(app).get("/api/optional").set("Cookie", accessCookie(access));
      expect([expired.status, expired.body]).toEqual([401, TRY_REFRESH]);
      expect(expired.headers["set-cookie"]).toBeUndefined();
      expect(handlerCalls.count).toBe(3);
    });
  });

  describe("verifySession({ checkDatabase: true })", () => {
    it("refuses at once a session revoked by another instance, which the first instance's revocation list has not heard of", async () => {
      const [first, second] = stores.pair();
      const counted = countingStore(first);
      const a = createApp({ store: counted.store });
      const b = createApp({ store: second });
      const { access, handle } = await login(a.app, "user-1");
      await request(b.app).get("/api/me").set("Cookie", accessCookie(access)).expect(200); // b has loaded the keys

      const live = await request(a.app).get("/api/strict").set("Cookie", accessCookie(access));
      expect([live.status, live.body.userId]).toEqual([200, "user-1"]);

      await expect(b.sessions.revokeSession(handle)).resolves.toBe(true);
      counted.calls.length = 0;
      const strict = await request(a.app).get("/api/strict").set("Cookie", accessCookie(access));
      expect([strict.status, strict.body]).toEqual([401, UNAUTHORISED]);
      expect(requestCalls(counted.calls)).toEqual(["findSession"]); // the answer came from the row

      // The revoking instance refuses the token on every route at once, without a store read.
      const onB = await request(b.app).get("/api/me").set("Cookie", accessCookie(access));
      expect([onB.status, onB.body]).toEqual([401, UNAUTHORISED]);
      // And the first instance, having read the row, now refuses it everywhere too.
      const onA = await request(a.app).get("/api/me").set("Cookie", accessCookie(access));
      expect([onA.status, onA.body]).toEqual([401, UNAUTHORISED]);
      expect(a.handlerCalls.count).toBe(1);
      expect(b.handlerCalls.count).toBe(1);
    });

    it("refuses a session whose row is gone", async () => {
      let gone = false;
      // Over countingStore's proxy, whose methods are bound to the real store.
      const store = new Proxy(countingStore(stores.create()).store, {
        get: (target, property, receiver) => (gone && property === "findSession" ? async () => null : Reflect.get(target, property, receiver)),
      });
      const { app, handlerCalls } = createApp({ store });
      const { access } = await login(app, "user-1");
      await request(app).get("/api/strict").set("Cookie", accessCookie(access)).expect(200);
      gone = true;
      const res = await request(app).get("/api/strict").set("Cookie", accessCookie(access));
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      expect(handlerCalls.count).toBe(1);
    });
  });

  describe("OPTIONS", () => {
    it("passes through untouched: no verification, no 401, no cookies", async () => {
      const { app, handlerCalls } = createApp({ store: stores.create() });
      app.all("/api/any", verifySession(), (req, res) => {
        handlerCalls.count++;
        res.json({ method: req.method, userId: req.session?.userId ?? null });
      });
      const guarded = await request(app).get("/api/any");
      expect([guarded.status, guarded.body]).toEqual([401, UNAUTHORISED]);

      const bare = await request(app).options("/api/any");
      expect([bare.status, bare.body]).toEqual([200, { method: "OPTIONS", userId: null }]);
      const forged = await request(app).options("/api/any").set("Cookie", accessCookie("garbage"));
      expect([forged.status, forged.body]).toEqual([200, { method: "OPTIONS", userId: null }]);
      expect(forged.headers["set-cookie"]).toBeUndefined();
      expect(handlerCalls.count).toBe(2);
    });
  });

  describe("several instances on one store", () => {
    it("verify each other's access tokens", async () => {
      const [first, second] = stores.pair();
      const a = createApp({ store: first });
      const b = createApp({ store: second });
      const fromA = await login(a.app, "user-a");
      const fromB = await login(b.app, "user-b");
      expect(decodeJwtPart(fromA.access, 0).kid).toBe(decodeJwtPart(fromB.access, 0).kid);

      const aOnB = await request(b.app).get("/api/me").set("Cookie", accessCookie(fromA.access));
      expect([aOnB.status, aOnB.body.userId, aOnB.body.handle]).toEqual([200, "user-a", fromA.handle]);
      const bOnA = await request(a.app).get("/api/me").set("Cookie", accessCookie(fromB.access));
      expect([bOnA.status, bOnA.body.userId, bOnA.body.handle]).toEqual([200, "user-b", fromB.handle]);
    });

    it("refuse tokens of an instance on another store (other keys)", async () => {
      const a = createApp({ store: stores.create() });
      const b = createApp({ store: stores.create() });
      const fromA = await login(a.app, "user-a");
      const fromB = await login(b.app, "user-b");
      const res = await request(b.app).get("/api/me").set("Cookie", accessCookie(fromA.access));
      // Key ids are derived from the rotation slot, so two deployments name their (different)
      // keys alike: the kid is found, the signature fails. Across a slot boundary the kid
      // would be unknown instead, and DESIGN §2 answers that with a refresh.
      const sameKid = decodeJwtPart(fromA.access, 0).kid === decodeJwtPart(fromB.access, 0).kid;
      expect([res.status, res.body]).toEqual([401, sameKid ? UNAUTHORISED : TRY_REFRESH]);
      expect(b.handlerCalls.count).toBe(0);
    });
  });

  describe("hostile cookies", () => {
    let fixture: TestApp;
    let token: string;

    beforeAll(async () => {
      fixture = createApp({ store: stores.create() });
      token = (await login(fixture.app, "user-1")).access;
    });

    // cookie-parser turns "j:" values into objects, arrays and numbers; only a string is a token.
    it.each([
      ["a j: object", 'sAccessToken=j:{"sub":"admin","sid":"x"}'],
      ["a j: array", "sAccessToken=j:[1,2,3]"],
      ["a j: number", "sAccessToken=j:42"],
      ["a j: null", "sAccessToken=j:null"],
      ["a j: string that is not a token", 'sAccessToken=j:"admin"'],
      ["a j: value that is not JSON", "sAccessToken=j:{broken"],
      ["an 8 KB+ access cookie", `sAccessToken=${"A".repeat(9000)}`],
      ["an 8 KB+ header of other cookies around a forged token", `${"pad=".concat("p".repeat(8200))}; sAccessToken=garbage; more=1`],
      ["a cookie name without a value", "sAccessToken"],
      ["an empty access cookie", "sAccessToken="],
      ["only separators", ";;; = ;=;"],
      ["an unterminated quote", 'sAccessToken="abc'],
      ["a broken percent-encoding", "sAccessToken=%E0%A4%A"],
      ["a lone percent sign", "sAccessToken=%"],
      ["Latin-1 bytes", "sAccessToken=\u00ff\u00fe\u00fd"],
    ])("answers %s with 401 unauthorised, never 500", async (_label, cookie) => {
      const calls = fixture.handlerCalls.count;
      const res = await request(fixture.app).get("/api/me").set("Cookie", cookie);
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      const optional = await request(fixture.app).get("/api/optional").set("Cookie", cookie);
      expect([optional.status, optional.body]).toEqual([200, { userId: null }]);
      expect(fixture.handlerCalls.count).toBe(calls + 1);
    });

    it("still finds a real token among 8 KB of other cookies", async () => {
      const res = await request(fixture.app)
        .get("/api/me")
        .set("Cookie", `pad=${"p".repeat(8200)}; sAccessToken=${token}; j=j:{"a":1}`);
      expect([res.status, res.body.userId]).toEqual([200, "user-1"]);
    });
  });
});
