import { createHash, createHmac, createPrivateKey, createPublicKey, createSign, generateKeyPairSync, randomUUID, type KeyObject } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import mysql from "mysql2/promise";
import type { Pool, PoolConnection } from "mysql2/promise";
import { memoryStore, mysqlStore, sessionMiddleware, verifySession, type SessionStore } from "../lib";
import {
  accessCookie,
  countingStore,
  createApp,
  DATABASE_URL,
  decodeFrontToken,
  decodeJwtPart,
  describeEachStore,
  expectCleared,
  expectCookie,
  fakeClock,
  login,
  refreshCookie,
  request,
  setCookies,
  StoreFactory,
  tokensOf,
  type TestApp,
} from "./helpers";

// Tests for items of shared/reference/security-checklist.md that no other spec checks.
// Each test name starts with the item number; SECURITY.md ("Checklist coverage") maps
// every item to the spec that checks it.

const REFRESH = "/auth/session/refresh";
const SIGNOUT = "/auth/signout";
const DAY = 86_400_000;
const UNAUTHORISED = { message: "unauthorised" };
const TRY_REFRESH = { message: "try refresh token" };
/** Store methods that read or write session rows (as opposed to keys, secrets and the revocation poll). */
const SESSION_METHODS = new Set(["createSession", "findSession", "updateSession", "revokeAllForUser", "listForUser", "deleteExpired"]);

const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const sha256 = (text: string) => createHash("sha256").update(text).digest();
const signRaw = (header: Record<string, unknown>, payload: unknown, sign: (input: string) => string) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
};
const rsa = (key: KeyObject) => (input: string) => createSign("RSA-SHA256").update(input).sign(key).toString("base64url");
const hmac = (digest: string, secret: string) => (input: string) => createHmac(digest, secret).update(input).digest("base64url");
const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 });

/** The real signing key and a session to forge for, read from the store as an insider would. */
interface Forgery {
  token: string;
  kid: string;
  privateKey: KeyObject;
  publicPem: string;
  handle: string;
  now: number; // seconds
}

async function forgery(app: TestApp["app"], store: SessionStore, nowMs = Date.now()): Promise<Forgery> {
  const { access, handle } = await login(app, "user-1");
  const kid = decodeJwtPart(access, 0).kid as string;
  const record = (await store.listSigningKeys()).find((key) => key.kid === kid);
  if (!record) throw new Error(`signing key ${kid} is not in the store`);
  const privateKey = createPrivateKey(record.privateKey);
  const publicPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  return { token: access, kid, privateKey, publicPem, handle, now: Math.floor(nowMs / 1000) };
}

const claimsOf = (f: Forgery, extra: Record<string, unknown> = {}) => ({ sub: "user-1", sid: f.handle, iat: f.now, exp: f.now + 600, iss: "latchkey", ...extra });

describe("#1 refresh-token entropy [memory store]", () => {
  it("#1 refresh-token secrets are 256 bits from crypto.randomBytes, unique, with balanced bits", async () => {
    const { app } = createApp({ store: memoryStore() });
    const secrets: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const { refresh } = await login(app, `user-${i}`);
      secrets.push(Buffer.from(refresh.split(".")[2] as string, "base64url"));
    }
    expect(new Set(secrets.map((secret) => secret.length))).toEqual(new Set([32]));
    expect(new Set(secrets.map((secret) => secret.toString("hex"))).size).toBe(secrets.length);
    // No two share their first 4 bytes (a pair would, by chance, about once in 10^5 runs).
    expect(new Set(secrets.map((secret) => secret.subarray(0, 4).toString("hex"))).size).toBe(secrets.length);

    // Monobit over all 51,200 bits within 4σ, and each of the 256 bit positions within 5σ.
    const perPosition = new Array<number>(256).fill(0);
    for (const secret of secrets) {
      for (let bit = 0; bit < 256; bit++) perPosition[bit]! += (secret[bit >> 3]! >> (7 - (bit & 7))) & 1;
    }
    const ones = perPosition.reduce((sum, count) => sum + count, 0);
    const total = secrets.length * 256;
    expect(Math.abs(ones - total / 2)).toBeLessThan(4 * (Math.sqrt(total) / 2));
    for (const count of perPosition) expect(Math.abs(count - secrets.length / 2)).toBeLessThan(5 * (Math.sqrt(secrets.length) / 2));

    // The secret comes from crypto.randomBytes: stubbing it makes the token predictable.
    const nodeCrypto = require("node:crypto") as typeof import("node:crypto");
    const spy = jest.spyOn(nodeCrypto, "randomBytes").mockImplementation(((size: number) => Buffer.alloc(size, 7)) as never);
    try {
      const { refresh } = await login(app, "stubbed");
      // <handle>.<lineage: randomBytes(16)>.<secret: randomBytes(32)>
      expect(refresh.split(".").slice(1)).toEqual([Buffer.alloc(16, 7).toString("base64url"), Buffer.alloc(32, 7).toString("base64url")]);
    } finally {
      spy.mockRestore();
    }
  });
});

describeEachStore("security checklist: tokens and what is stored", (stores) => {
  it("#3 access token, front-token and refresh token carry only the documented claims, never session data", async () => {
    const { app } = createApp({ store: stores.create() });
    const { access, refresh, handle, res } = await login(app, "user-1", { payload: { role: "admin" }, data: { secretNote: "server-only" } });
    const claims = decodeJwtPart(access, 1);
    expect(Object.keys(claims).sort()).toEqual(["authTime", "exp", "iat", "iss", "role", "sid", "sub"]);
    expect(decodeJwtPart(access, 0)).toEqual({ alg: "ES256", typ: "at+jwt", kid: expect.any(String) });
    const front = decodeFrontToken(res.headers["front-token"] as string);
    expect(front.up).toEqual(claims);
    for (const text of [access, res.headers["front-token"] as string, JSON.stringify(front), JSON.stringify(claims)]) {
      expect(text).not.toMatch(/secretNote|server-only/);
    }
    // The refresh token is the (non-secret) handle, 128 random bits of lineage and 256 random
    // bits of secret: no user id, no time.
    expect(refresh).toMatch(new RegExp(`^${handle}\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}$`));
  });

  it("#4 stores only SHA-256 of the refresh token: no column holds the token or its secret", async () => {
    const prefix = stores.newPrefix();
    const store = stores.create(prefix);
    const { app } = createApp({ store });
    const { refresh, handle } = await login(app, "user-1");
    // Neither the 256-bit secret nor the 128-bit lineage may be stored as it is (the lineage only as a hash).
    const [, lineage, secret] = refresh.split(".") as [string, string, string];
    const row = await store.findSession(handle);
    expect(row?.refreshTokenHash.toString("hex")).toBe(sha256(refresh).toString("hex"));

    const texts: string[] = [];
    const collect = (value: unknown) => {
      if (Buffer.isBuffer(value)) texts.push(value.toString("hex"), value.toString("base64url"), value.toString("latin1"));
      else texts.push(typeof value === "string" ? value : JSON.stringify(value) ?? "");
    };
    if (stores.kind === "mysql") {
      const connection = await mysql.createConnection({ uri: DATABASE_URL });
      try {
        for (const table of ["sessions", "signing_keys", "secrets"]) {
          const [rows] = await connection.query(`SELECT * FROM \`${prefix}${table}\``);
          for (const stored of rows as Record<string, unknown>[]) Object.values(stored).forEach(collect);
        }
      } finally {
        await connection.end();
      }
    } else {
      Object.values(row ?? {}).forEach(collect);
    }
    const pieces = [refresh, secret, lineage, Buffer.from(secret, "base64url").toString("hex"), Buffer.from(lineage, "base64url").toString("hex")];
    for (const text of texts) {
      expect(pieces.filter((piece) => text.includes(piece))).toEqual([]);
    }
    expect(row?.lineageHash?.toString("hex")).toBe(sha256(lineage).toString("hex"));
  });

  it("#6 the refresh-successor HMAC key is 32 random bytes generated per deployment", async () => {
    const secrets: Buffer[] = [];
    for (let i = 0; i < 2; i++) {
      const store = stores.create();
      await login(createApp({ store }).app);
      // The key already exists, so this returns it and ignores the all-zero candidate.
      secrets.push(await store.getOrCreateSecret("refresh-successor", Buffer.alloc(32)));
    }
    for (const secret of secrets) {
      expect(secret.length).toBe(32);
      expect(secret.equals(Buffer.alloc(32))).toBe(false);
    }
    expect(secrets[0]!.equals(secrets[1]!)).toBe(false);
  });

  it("#44 rotation stores H(new) as current and H(presented) as previous, with the rotation time", async () => {
    const clock = fakeClock();
    const store = stores.create();
    const { app } = createApp({ store, clock: clock.now });
    const first = await login(app);
    clock.advance(5_000);
    const next = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(first.refresh)).expect(200));
    const row = await store.findSession(first.handle);
    expect(row?.refreshTokenHash.toString("hex")).toBe(sha256(next.refresh).toString("hex"));
    expect(row?.prevRefreshTokenHash?.toString("hex")).toBe(sha256(first.refresh).toString("hex"));
    expect(row?.rotatedAt).toBe(clock.now());
    expect(decodeJwtPart(next.access, 1)).toMatchObject({ sid: first.handle, iat: Math.floor(clock.now() / 1000) });
  });

  it("#63 refuses a well-formed refresh token for a never-issued handle without creating a row; createSession picks its own handle", async () => {
    const counted = countingStore(stores.create());
    const { app } = createApp({ store: counted.store });
    await login(app);
    const invented = randomUUID();
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(`${invented}.${"A".repeat(22)}.${"A".repeat(43)}`)).expect(401);
    expect(res.body).toEqual(UNAUTHORISED);
    expect(await counted.store.findSession(invented)).toBeNull();

    // A handle cannot even be asked for: the option does not exist, and the call says so.
    app.post("/login-with-handle", async (_req, res) => {
      try {
        await res.createSession("user-1", { handle: "chosen-by-client" } as never);
        res.json({ created: true });
      } catch (error) {
        res.status(400).json({ message: (error as Error).message });
      }
    });
    const chosen = await request(app).post("/login-with-handle").expect(400);
    expect(chosen.body.message).toMatch(/^latchkey: unknown createSession option handle\./);
    const own = (await login(app)).handle;
    expect(own).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("#64 never creates a session implicitly: anonymous traffic to every endpoint writes no session row", async () => {
    const counted = countingStore(stores.create());
    const { app } = createApp({ store: counted.store });
    for (let i = 0; i < 20; i++) {
      await request(app).get("/api/me").expect(401);
      await request(app).get("/api/optional").expect(200);
      await request(app).get("/api/strict").expect(401);
      await request(app).post(REFRESH).expect(401);
      await request(app).post(SIGNOUT).expect(401);
      await request(app).get("/auth/jwt/jwks.json").expect(200);
    }
    expect(counted.calls.filter((call) => SESSION_METHODS.has(call))).toEqual([]);
  });
});

describeEachStore("security checklist: JWT verification", (stores) => {
  let fixture: TestApp;
  let counted: { store: SessionStore; calls: string[] };
  let f: Forgery;

  beforeAll(async () => {
    counted = countingStore(stores.create());
    // RS256: the confusion attacks below key HMACs with the RSA public key's text forms.
    fixture = createApp({ store: counted.store, algorithm: "RS256" });
    f = await forgery(fixture.app, counted.store);
  });

  const expectRefused = async (token: string, message: "unauthorised" | "try refresh token") => {
    const calls = fixture.handlerCalls.count;
    const started = Date.now();
    const res = await request(fixture.app).get("/api/me").set("Cookie", accessCookie(token));
    expect([res.status, res.body]).toEqual([401, { message }]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fixture.handlerCalls.count).toBe(calls);
  };

  it("#10 refuses HS256/384/512 keyed with every text form of the public key", async () => {
    const pkcs1 = createPublicKey(f.privateKey).export({ type: "pkcs1", format: "pem" }).toString();
    const jwk = JSON.stringify(createPublicKey(f.privateKey).export({ format: "jwk" }));
    const secrets = [f.publicPem, f.publicPem.trimEnd(), `  ${f.publicPem}`, `\n${f.publicPem}`, pkcs1, pkcs1.trimEnd(), jwk];
    for (const [alg, digest] of [["HS256", "sha256"], ["HS384", "sha384"], ["HS512", "sha512"]] as const) {
      for (const secret of secrets) {
        await expectRefused(signRaw({ alg, typ: "at+jwt", kid: f.kid }, claimsOf(f), hmac(digest, secret)), "unauthorised");
      }
    }
  });

  it("#12 ignores keys named by jku, x5u and x5c, and never fetches them", async () => {
    let fetched = 0;
    const listener = createServer((_req, res) => {
      fetched++;
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ keys: [{ ...attacker.publicKey.export({ format: "jwk" }), kid: "attacker" }] }));
    });
    await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(listener.address() as AddressInfo).port}/jwks.json`;
    const x5c = [attacker.publicKey.export({ type: "spki", format: "der" }).toString("base64")];
    try {
      for (const extra of [{ jku: url }, { x5u: url }, { x5c }]) {
        // Under the real kid the signature fails; under the attacker's or no kid the key is unknown.
        await expectRefused(signRaw({ alg: "RS256", typ: "at+jwt", kid: f.kid, ...extra }, claimsOf(f), rsa(attacker.privateKey)), "unauthorised");
        await expectRefused(signRaw({ alg: "RS256", typ: "at+jwt", kid: "attacker", ...extra }, claimsOf(f), rsa(attacker.privateKey)), "try refresh token");
        await expectRefused(signRaw({ alg: "RS256", typ: "at+jwt", ...extra }, claimsOf(f), rsa(attacker.privateKey)), "try refresh token");
      }
      expect(fetched).toBe(0);
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it.each<[string, unknown]>([
    ["an empty kid", ""],
    ["/dev/null", "/dev/null"],
    ["a shell command", "$(sleep 5)"],
    ["a null kid", null],
  ])("#13 refuses %s under every signature, quickly and without a store call", async (_label, kid) => {
    counted.calls.length = 0;
    const calls = fixture.handlerCalls.count;
    const signers = [rsa(f.privateKey), rsa(attacker.privateKey), hmac("sha256", ""), hmac("sha256", "1"), hmac("sha256", "secret")];
    for (const [index, sign] of signers.entries()) {
      // A kid this instance does not know may be a newer key: DESIGN §2 answers "try refresh token".
      await expectRefused(signRaw({ alg: index < 2 ? "RS256" : "HS256", typ: "at+jwt", kid }, claimsOf(f), sign), "try refresh token");
    }
    // The real kid with an HMAC signature is refused as a forgery.
    for (const sign of signers.slice(2)) await expectRefused(signRaw({ alg: "HS256", typ: "at+jwt", kid: f.kid }, claimsOf(f), sign), "unauthorised");
    expect(counted.calls.filter((call) => call !== "listRevokedSince")).toEqual([]);
    expect(fixture.handlerCalls.count).toBe(calls);
  });

  it("#19 refuses the flattened JSON serialisation of a real token", async () => {
    const [protectedHeader, payload, signature] = f.token.split(".");
    const flattened = encodeURIComponent(JSON.stringify({ protected: protectedHeader, payload, signature }));
    await expectRefused(flattened, "unauthorised");
    await expectRefused(encodeURIComponent(JSON.stringify({ payload, signatures: [{ protected: protectedHeader, signature }] })), "unauthorised");
  });

  it("#59 revocation follows the sid, not the token bytes: a freshly signed token for a revoked session is refused", async () => {
    const { access, handle } = await login(fixture.app, "user-1");
    const other = await login(fixture.app, "user-1");
    await request(fixture.app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    expect(await fixture.sessions.revokeSession(handle)).toBe(true);
    const resigned = signRaw({ alg: "RS256", typ: "at+jwt", kid: f.kid }, claimsOf(f, { sid: handle, iat: f.now - 1, role: "x" }), rsa(f.privateKey));
    expect(resigned).not.toBe(access);
    for (const path of ["/api/me", "/api/strict"]) {
      const res = await request(fixture.app).get(path).set("Cookie", accessCookie(resigned));
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
    }
    await request(fixture.app).get("/api/me").set("Cookie", accessCookie(other.access)).expect(200);
  });

  it("#72 the JWKS holds public members only, for RS256 and ES256", async () => {
    const allowed = new Set(["kty", "kid", "alg", "use", "n", "e", "crv", "x", "y"]);
    for (const app of [fixture.app, createApp({ store: stores.create(), algorithm: "ES256" }).app]) {
      const res = await request(app).get("/auth/jwt/jwks.json").expect(200);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.body.keys.length).toBeGreaterThan(0);
      for (const key of res.body.keys as Record<string, unknown>[]) {
        expect(Object.keys(key).filter((member) => !allowed.has(member))).toEqual([]);
      }
    }
  });
});

describeEachStore("#9 ES256 null and zero signatures", (stores) => {
  it.each([
    ["an empty signature", ""],
    ["64 zero bytes (r = s = 0, the psychic signature)", Buffer.alloc(64).toString("base64url")],
    ["DER r = s = 0", "MAYCAQACAQA"],
  ])("#9 refuses %s under the real ES256 kid", async (_label, signature) => {
    const store = stores.create();
    const { app, handlerCalls } = createApp({ store, algorithm: "ES256" });
    const { access, handle } = await login(app, "user-1");
    const kid = decodeJwtPart(access, 0).kid as string;
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64({ alg: "ES256", typ: "at+jwt", kid })}.${b64({ sub: "admin", sid: handle, iat: now, exp: now + 600, iss: "latchkey" })}.${signature}`;
    const res = await request(app).get("/api/me").set("Cookie", accessCookie(token));
    expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
    expect(handlerCalls.count).toBe(0);
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
  });
});

describeEachStore("security checklist: cookies", (stores) => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  it("#23 a re-signed access token (mergeIntoAccessTokenPayload) is set HttpOnly with the same attributes and lifetime", async () => {
    const { app } = createApp({ store: stores.create() });
    app.post("/api/promote", verifySession(), async (req, res) => {
      await req.session!.mergeIntoAccessTokenPayload({ role: "admin" });
      res.json({ ok: true });
    });
    const { access, res: loginRes } = await login(app);
    const res = await request(app).post("/api/promote").set("Cookie", accessCookie(access)).expect(200);
    const original = expectCookie(loginRes, "sAccessToken", {});
    const resigned = expectCookie(res, "sAccessToken", { httponly: true, path: "/", samesite: "Lax", secure: undefined, domain: undefined });
    expect(resigned.attributes.expires).toBe(original.attributes.expires);
    expect(setCookies(res).has("sRefreshToken")).toBe(false);
  });

  it.each([
    ["an attribute after a semicolon", "example.com; Path=/"],
    ["a comma", "a,b.example.com"],
    ["a space", "a b.example.com"],
    ["CR LF and a second header", "a\r\nSet-Cookie: x=1"],
    ["an equals sign", "a=b.example.com"],
    ["a path", "example.com/"],
    ["an empty string", ""],
  ])("#26 refuses a cookieDomain with %s at start-up", (_label, cookieDomain) => {
    expect(() => sessionMiddleware({ store: memoryStore(), cookieDomain })).toThrow(/^latchkey: option cookieDomain must be a host name/);
  });

  it("#27 a cookie jar sends the refresh token to the refresh endpoint only", async () => {
    const { app } = createApp({ store: stores.create() });
    app.get("/echo", (req, res) => res.json({ cookie: req.headers.cookie ?? "" }));
    const agent = request.agent(app);
    await agent.post("/login").send({ userId: "user-1" }).expect(200);
    const echoed = (await agent.get("/echo").expect(200)).body.cookie as string;
    expect(echoed).toMatch(/sAccessToken=/);
    expect(echoed).not.toMatch(/sRefreshToken=/);
    await agent.get("/api/me").expect(200);
    // The jar does send it to the refresh path: the refresh succeeds with no explicit cookie.
    const refreshed = await agent.post(REFRESH).expect(200);
    expect(setCookies(refreshed).has("sRefreshToken")).toBe(true);
  });

  it("#29 cookie names match exactly: a mis-capitalised name, or a look-alike prefix, is not a token", async () => {
    const { app, handlerCalls } = createApp({ store: stores.create() });
    app.set("trust proxy", "loopback");
    const { access } = await login(app);
    const res = await request(app).get("/api/me").set("Cookie", `SACCESSTOKEN=${access}; saccesstoken=${access}`);
    expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
    expect(handlerCalls.count).toBe(0);

    const https = await request(app).post("/login").set("X-Forwarded-Proto", "https").send({ userId: "real" }).expect(200);
    const real = setCookies(https).get("__Host-sAccessToken")!.value;
    const evil = (await login(app, "evil")).access;
    for (const cookie of [`__HOST-sAccessToken=${evil}; __Host-sAccessToken=${real}`, `__Host-sAccessToken=${real}; __host-sAccessToken=${evil}`]) {
      const me = await request(app).get("/api/me").set("X-Forwarded-Proto", "https").set("Cookie", cookie).expect(200);
      expect(me.body.userId).toBe("real");
    }
  });

  it("#30 the largest payload the documented limits allow still fits one 4096-byte cookie (default issuer, ASCII user id)", async () => {
    const { app } = createApp({ store: stores.create() });
    const payload = { blob: "x".repeat(2048 - '{"blob":""}'.length) };
    expect(Buffer.byteLength(JSON.stringify(payload))).toBe(2048);
    const res = await request(app).post("/login").send({ userId: "u".repeat(255), payload }).expect(200);
    const line = (res.headers["set-cookie"] as unknown as string[]).find((cookie) => cookie.startsWith("sAccessToken="))!;
    expect(Buffer.byteLength(line.split(";")[0] as string)).toBeLessThanOrEqual(4096);
    await request(app).get("/api/me").set("Cookie", line.split(";")[0] as string).expect(200);
  });

  it("#32 clearing over HTTPS repeats the prefixed names, Secure, Path and SameSite; with cookieDomain, the Domain", async () => {
    const { app } = createApp({ store: stores.create() });
    app.set("trust proxy", "loopback");
    const set = await request(app).post("/login").set("X-Forwarded-Proto", "https").send({ userId: "u" }).expect(200);
    const access = setCookies(set).get("__Host-sAccessToken")!.value;
    const res = await request(app).post(SIGNOUT).set("X-Forwarded-Proto", "https").set("Cookie", `__Host-sAccessToken=${access}`).expect(200);
    expect(res.headers["front-token"]).toBe("remove");
    for (const [name, path] of [["__Host-sAccessToken", "/"], ["__Secure-sRefreshToken", REFRESH]] as const) {
      const cleared = expectCookie(res, name, { secure: true, httponly: true, samesite: "Lax", path, domain: undefined });
      expect(cleared.value).toBe("");
      expect(new Date(cleared.attributes.expires as string).getTime()).toBeLessThan(Date.now());
    }

    const scoped = createApp({ store: stores.create(), cookieDomain: "example.com", cookieSecure: true });
    const other = await login(scoped.app);
    const out = await request(scoped.app).post(SIGNOUT).set("Cookie", accessCookie(other.access)).expect(200);
    expectCookie(out, "sAccessToken", { domain: "example.com", secure: true, path: "/" });
    expectCookie(out, "sRefreshToken", { domain: "example.com", secure: true, path: REFRESH });
  });

  it("#34 tokens never travel in URLs or bodies: cookie-mode responses carry none, and none is accepted from a query or body", async () => {
    const { app, handlerCalls } = createApp({ store: stores.create() });
    const { access, refresh, res } = await login(app);
    expect(res.headers["st-access-token"]).toBeUndefined();
    expect(res.headers["st-refresh-token"]).toBeUndefined();
    expect(res.text).not.toContain(access);
    expect(res.text).not.toContain(refresh);

    for (const query of [`sAccessToken=${access}`, `accessToken=${access}`, `access_token=${access}`]) {
      const me = await request(app).get(`/api/me?${query}`);
      expect([me.status, me.body]).toEqual([401, UNAUTHORISED]);
    }
    const body = await request(app).post("/api/me").send({ sAccessToken: access, accessToken: access });
    expect([body.status, body.body]).toEqual([401, UNAUTHORISED]);
    expect(handlerCalls.count).toBe(0);

    const refreshed = await request(app).post(REFRESH).send({ refreshToken: refresh, sRefreshToken: refresh });
    expect(setCookies(refreshed).get("sRefreshToken")?.value ?? "").toBe("");
    expect(refreshed.text).not.toContain(refresh);
  });
});

describeEachStore("security checklist: CSRF and CORS", (stores) => {
  let trusting: TestApp;
  let access: string;
  beforeAll(async () => {
    trusting = createApp({ store: stores.create(), trustedOrigins: ["https://app.example.com"] });
    access = (await login(trusting.app)).access;
  });

  it.each([
    "https://app.example.com.evil.com",
    "https://evilapp.example.com",
    "http://app.example.com",
    "https://app.example.com:8443",
    "https://APP.example.com.",
    "null",
  ])("#36 compares trusted origins exactly: refuses %s", async (origin) => {
    const calls = trusting.handlerCalls.count;
    const res = await request(trusting.app).post("/api/me").set("Cookie", accessCookie(access)).set("Origin", origin);
    expect([res.status, res.body]).toEqual([401, TRY_REFRESH]);
    expect(trusting.handlerCalls.count).toBe(calls);
    await request(trusting.app).post("/api/me").set("Cookie", accessCookie(access)).set("Origin", "https://app.example.com").expect(200);
  });

  it("#41 safe methods never reach sign-out or refresh, and change nothing", async () => {
    const store = stores.create();
    const { app } = createApp({ store });
    const { access, refresh, handle } = await login(app);
    const cookies = `${accessCookie(access)}; ${refreshCookie(refresh)}`;
    for (const [method, path] of [["get", SIGNOUT], ["head", SIGNOUT], ["get", REFRESH], ["head", REFRESH]] as const) {
      const res = await request(app)[method](path).set("Cookie", cookies);
      expect(res.status).toBe(404);
      expect(res.headers["set-cookie"]).toBeUndefined();
    }
    const row = await store.findSession(handle);
    expect([row?.revokedAt, row?.rotatedAt]).toEqual([null, null]);
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
  });

  it("#42 adds no Access-Control-Allow-Origin of its own, on preflights or on the endpoints", async () => {
    const { app } = createApp({ store: stores.create() });
    const { refresh } = await login(app);
    const preflight = await request(app)
      .options(REFRESH)
      .set("Origin", "https://evil.example")
      .set("Access-Control-Request-Method", "POST")
      .set("Access-Control-Request-Headers", "rid, st-auth-mode");
    const post = await request(app).post(REFRESH).set("Origin", "https://evil.example").set("Cookie", refreshCookie(refresh));
    const jwks = await request(app).get("/auth/jwt/jwks.json").set("Origin", "https://evil.example");
    for (const res of [preflight, post, jwks]) {
      expect(res.headers["access-control-allow-origin"]).toBeUndefined();
      expect(res.headers["access-control-allow-credentials"]).toBeUndefined();
    }
  });
});

describeEachStore("security checklist: refresh, expiry, fixation and sign-out", (stores) => {
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

  it("#51 refresh needs the refresh token: an access cookie alone, or a token in the query or body, is unauthorised", async () => {
    const store = stores.create();
    const { app } = createApp({ store });
    const { access, refresh, handle } = await login(app);
    const onlyAccess = await request(app).post(REFRESH).set("Cookie", accessCookie(access)).expect(401);
    expect(onlyAccess.body).toEqual(UNAUTHORISED);
    expectCleared(onlyAccess, "sAccessToken", "/");
    expectCleared(onlyAccess, "sRefreshToken", REFRESH);
    for (const call of [
      request(app).post(`${REFRESH}?sRefreshToken=${refresh}`),
      request(app).post(`${REFRESH}?refreshToken=${refresh}`),
      request(app).post(REFRESH).send({ sRefreshToken: refresh, refreshToken: refresh }),
    ]) {
      expect((await call.expect(401)).body).toEqual(UNAUTHORISED);
    }
    expect((await store.findSession(handle))?.rotatedAt).toBeNull();
  });

  it("#52 a refresh body cannot change the identity or the payload", async () => {
    const { app } = createApp({ store: stores.create() });
    const { refresh, handle } = await login(app, "user-1", { payload: { role: "member" } });
    const res = await request(app)
      .post(REFRESH)
      .set("Cookie", refreshCookie(refresh))
      .send({ userId: "admin", sub: "admin", accessTokenPayload: { role: "admin" }, payload: { role: "admin" } })
      .expect(200);
    expect(decodeJwtPart(tokensOf(res).access, 1)).toMatchObject({ sub: "user-1", sid: handle, role: "member" });
    expect(decodeFrontToken(res.headers["front-token"] as string)).toMatchObject({ uid: "user-1", up: { role: "member" } });
  });

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
      { handle: stolen.handle, userId, ip: expect.any(String), userAgent: null, clientIp: expect.any(String), clientUserAgent: null, at: clock.now() },
    ]);
    for (const part of stolen.refresh.split(".").slice(1)) expect(JSON.stringify(events.theft)).not.toContain(part);
  });

  it("#61 cookies planted before login are replaced, never adopted", async () => {
    const { app } = createApp({ store: stores.create() });
    const attacker = await login(app, "attacker");
    const res = await request(app)
      .post("/login")
      .set("Cookie", `${accessCookie("attacker-chosen")}; ${refreshCookie(attacker.refresh)}`)
      .send({ userId: "victim" })
      .expect(200);
    const victim = tokensOf(res);
    expect(victim.access).not.toBe("attacker-chosen");
    expect(victim.refresh).not.toBe(attacker.refresh);
    expect(victim.refresh.split(".")[0]).not.toBe(attacker.handle);
    expect(decodeJwtPart(victim.access, 1).sub).toBe("victim");
    // The attacker's own token still names only the attacker.
    const theirs = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(attacker.refresh)).expect(200));
    expect(decodeJwtPart(theirs.access, 1).sub).toBe("attacker");
  });

  it("#66 sign-out of a session whose row is gone still answers OK and clears the tokens", async () => {
    let gone = false;
    const store = new Proxy(countingStore(stores.create()).store, {
      get: (target, property, receiver) => (gone && property === "updateSession" ? async () => null : Reflect.get(target, property, receiver)),
    });
    const { app } = createApp({ store });
    const { access } = await login(app);
    gone = true;
    const res = await request(app).post(SIGNOUT).set("Cookie", accessCookie(access)).expect(200);
    expect(res.body).toEqual({ status: "OK" });
    expect(res.headers["front-token"]).toBe("remove");
    expectCleared(res, "sAccessToken", "/");
    expectCleared(res, "sRefreshToken", REFRESH);
  });

  it("#68 unknown, guessed, revoked and expired refresh tokens get byte-identical answers", async () => {
    const clock = fakeClock();
    const { app, sessions, events } = createApp({ store: stores.create(), clock: clock.now, refreshTokenTtl: "1d", cleanupInterval: false });
    const guessed = await login(app, "guessed");
    const revoked = await login(app, "revoked");
    await sessions.revokeSession(revoked.handle);
    const answer = async (token: string) => {
      const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(token));
      return { status: res.status, body: res.text, cookies: res.headers["set-cookie"], front: res.headers["front-token"], type: res.headers["content-type"] };
    };
    const unknown = await answer(`${randomUUID()}.${"A".repeat(43)}`);
    const answers = [await answer(`${guessed.handle}.${"A".repeat(43)}`), await answer(revoked.refresh)];
    const expired = await login(app, "expired");
    clock.advance(DAY + 1);
    answers.push(await answer(expired.refresh));
    expect(unknown.status).toBe(401);
    expect(unknown.body).toBe('{"message":"unauthorised"}');
    for (const other of answers) expect(other).toEqual(unknown);
    expect(events.theft).toEqual([]);
  });
});

describeEachStore("security checklist: input handling", (stores) => {
  it("#71 adds no version or product header, and names no version in any body", async () => {
    const { version } = JSON.parse(readFileSync(path.resolve(__dirname, "../package.json"), "utf8")) as { version: string };
    const { app } = createApp({ store: stores.create() });
    const { access, refresh, res } = await login(app);
    const responses = [
      res,
      await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)),
      await request(app).get("/auth/jwt/jwks.json"),
      await request(app).get("/api/me"),
      await request(app).post(SIGNOUT).set("Cookie", accessCookie(access)),
    ];
    const known = new Set(["set-cookie", "front-token", "access-control-expose-headers", "cache-control", "content-type", "content-length", "etag", "date", "connection", "keep-alive", "x-powered-by"]);
    for (const response of responses) {
      expect(Object.keys(response.headers).filter((name) => !known.has(name))).toEqual([]);
      expect(response.headers["x-powered-by"] ?? "Express").toBe("Express"); // Express's own; apps turn it off
      expect(response.text).not.toContain(version);
      expect(response.text.toLowerCase()).not.toContain("latchkey");
    }
  });

  it("#81 a 20 KB Cookie header is refused by Node with 431, and a 15 KB junk token costs no store call", async () => {
    const counted = countingStore(stores.create());
    const { app } = createApp({ store: counted.store });
    await login(app);
    const huge = await request(app).get("/api/me").set("Cookie", `pad=${"p".repeat(20_000)}`);
    expect(huge.status).toBe(431);
    counted.calls.length = 0;
    const junk = await request(app).get("/api/me").set("Cookie", accessCookie(`${"A".repeat(5000)}.${"B".repeat(5000)}.${"C".repeat(5000)}`));
    expect([junk.status, junk.body]).toEqual([401, UNAUTHORISED]);
    expect(counted.calls.filter((call) => call !== "listRevokedSince")).toEqual([]);
    await request(app).get("/api/me").set("Cookie", accessCookie((await login(app)).access)).expect(200);
  });

  it("#83 parses Authorization and st-auth-mode strictly and deterministically", async () => {
    const { app } = createApp({ store: stores.create() });
    const header = await request(app).post("/login").set("st-auth-mode", "header").send({ userId: "by-header" }).expect(200);
    const bearer = header.headers["st-access-token"] as string;
    const cookie = (await login(app, "by-cookie")).access;

    const who = async (headers: Record<string, string>) => {
      const res = await request(app).get("/api/me").set(headers);
      return [res.status, res.body.userId ?? res.body.message];
    };
    expect(await who({ Authorization: `bearer ${bearer}` })).toEqual([200, "by-header"]);
    expect(await who({ Authorization: `Bearer  ${bearer}` })).toEqual([200, "by-header"]);
    expect(await who({ Authorization: "Bearer" })).toEqual([401, "unauthorised"]);
    expect(await who({ Authorization: "Basic dXNlcjpwYXNz" })).toEqual([401, "unauthorised"]);
    expect(await who({ Authorization: `Token ${bearer}` })).toEqual([401, "unauthorised"]);
    // Both carriers: the bearer token wins (README, header mode), every time.
    for (let i = 0; i < 3; i++) expect(await who({ Authorization: `Bearer ${bearer}`, Cookie: accessCookie(cookie) })).toEqual([200, "by-header"]);
    // A non-bearer Authorization leaves the cookie in charge.
    expect(await who({ Authorization: "Basic dXNlcjpwYXNz", Cookie: accessCookie(cookie) })).toEqual([200, "by-cookie"]);

    for (const mode of ["HEADER", "Header", "garbage", ""]) {
      const res = await request(app).post("/login").set("st-auth-mode", mode).send({ userId: "u" }).expect(200);
      expect(res.headers["st-access-token"]).toBeUndefined();
      expect(setCookies(res).has("sAccessToken")).toBe(true);
    }
    const rid = `rid-${"r".repeat(4000)}`;
    const withRid = await request(app).post("/api/me").set("Cookie", accessCookie(cookie)).set("rid", rid).expect(200);
    expect(JSON.stringify(withRid.headers) + withRid.text).not.toContain(rid);
  });

  it("#85 the management API refuses objects and arrays where ids belong, before any session query", async () => {
    const counted = countingStore(stores.create());
    const { app, sessions } = createApp({ store: counted.store });
    await login(app);
    counted.calls.length = 0;
    // What a JavaScript caller (or a request body passed straight through) can hand in.
    for (const bad of [{ user_id: 1 }, ["a"], { toString: () => "user-1" }, 42, null] as never[]) {
      expect(await sessions.revokeSession(bad)).toBe(false);
      expect(await sessions.getSessionInformation(bad)).toBeNull();
      expect(await sessions.updateSessionData(bad, {})).toBe(false);
      expect(await sessions.mergeIntoAccessTokenPayload(bad, { a: 1 })).toBe(false);
      expect(await sessions.revokeOtherSessions(bad)).toEqual([]);
      await expect(sessions.revokeAllSessionsForUser(bad)).rejects.toThrow(TypeError);
      await expect(sessions.listSessions(bad)).rejects.toThrow(TypeError);
      await expect(sessions.getAllSessionHandlesForUser(bad)).rejects.toThrow(TypeError);
    }
    expect(counted.calls.filter((call) => SESSION_METHODS.has(call))).toEqual([]);
  });

  it("#86 __proto__ and constructor.prototype in session data and payloads never pollute Object.prototype", async () => {
    const { app, sessions } = createApp({ store: stores.create() });
    const hostile = '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}';
    const res = await request(app)
      .post("/login")
      .set("Content-Type", "application/json")
      .send(`{"userId":"user-1","data":${hostile}}`)
      .expect(200);
    await request(app).get("/api/me").set("Cookie", accessCookie(tokensOf(res).access)).expect(200);
    expect(await sessions.updateSessionData(res.body.handle, JSON.parse(hostile))).toBe(true);
    expect(Object.keys((await sessions.getSessionInformation(res.body.handle))!.sessionData)).toContain("constructor");
    // As an access-token payload these keys trip jsonwebtoken (SECURITY.md, Known gaps): whatever
    // the answer, nothing may leak into Object.prototype on the way.
    await request(app).post("/login").set("Content-Type", "application/json").send(`{"userId":"user-2","payload":${hostile}}`);
    await sessions.mergeIntoAccessTokenPayload(res.body.handle, JSON.parse(hostile)).catch(() => undefined);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });

  it("#87 the endpoints read no body: 2 MB of text to refresh and sign-out answers at once", async () => {
    const { app } = createApp({ store: stores.create() });
    const big = "x".repeat(2_000_000);
    for (const path of [REFRESH, SIGNOUT]) {
      const started = Date.now();
      const res = await request(app).post(path).set("Content-Type", "text/plain").send(big);
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });

  it("#88 the stored IP ignores X-Forwarded-For unless the app trusts the proxy, and then takes the nearest hop", async () => {
    const store = stores.create();
    const { app } = createApp({ store });
    const untrusted = await request(app).post("/login").set("X-Forwarded-For", "1.2.3.4").send({ userId: "u" }).expect(200);
    expect((await store.findSession(untrusted.body.handle))?.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    app.set("trust proxy", 1);
    const trusted = await request(app).post("/login").set("X-Forwarded-For", "1.2.3.4, 203.0.113.9").send({ userId: "u" }).expect(200);
    expect((await store.findSession(trusted.body.handle))?.ip).toBe("203.0.113.9");
  });
});

describe("#78 a refresh whose COMMIT fails rolls back [mysql store]", () => {
  const stores = new StoreFactory("mysql");
  afterAll(() => stores.cleanup());

  it("#78 keeps the presented token current when the connection dies between UPDATE and COMMIT", async () => {
    const pool = mysql.createPool({ uri: DATABASE_URL, connectionLimit: 4 });
    let failCommit = false;
    const wrapConnection = (conn: PoolConnection) =>
      new Proxy(conn, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          if (property === "query") {
            return (options: unknown, ...rest: unknown[]) => {
              const sql = typeof options === "string" ? options : (options as { sql: string }).sql;
              if (failCommit && sql === "COMMIT") {
                target.destroy(); // the server rolls the open transaction back
                return Promise.reject(Object.assign(new Error("Connection lost before COMMIT"), { code: "PROTOCOL_CONNECTION_LOST" }));
              }
              return (value as (...args: unknown[]) => unknown).call(target, options, ...rest);
            };
          }
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    const wrapped = new Proxy(pool, {
      get(target, property) {
        if (property === "getConnection") return async () => wrapConnection(await target.getConnection());
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Pool;
    const store = mysqlStore(wrapped, { tablePrefix: stores.newPrefix() });
    try {
      const { app, events } = createApp({ store });
      const { refresh, handle } = await login(app);
      failCommit = true;
      const failed = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(503);
      expect(failed.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
      expect(failed.headers["set-cookie"]).toBeUndefined();
      failCommit = false;

      const row = await store.findSession(handle);
      expect(row?.refreshTokenHash.toString("hex")).toBe(sha256(refresh).toString("hex"));
      expect([row?.prevRefreshTokenHash, row?.rotatedAt]).toEqual([null, null]);
      const next = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200));
      await request(app).post(REFRESH).set("Cookie", refreshCookie(next.refresh)).expect(200);
      expect(events.theft).toEqual([]);
    } finally {
      await store.close();
      await pool.end();
    }
  });
});

describe("#96-#98 dependency floors and defensive use of jsonwebtoken", () => {
  const root = path.resolve(__dirname, "..");
  const atLeast = (version: string, floor: string) => {
    const [a, b] = [version, floor].map((v) => v.split(/[.-]/).slice(0, 3).map(Number)) as [number[], number[]];
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] ?? 0) > (b[i] ?? 0);
    return true;
  };

  it("#96/#98 every shipped copy of jsonwebtoken, jws, mysql2 and cookie is at or above its security floor", () => {
    const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; dev?: boolean }>;
    };
    const floors: Record<string, (version: string) => boolean> = {
      jsonwebtoken: (v) => atLeast(v, "9.0.3"),
      jws: (v) => (v.startsWith("3.") ? atLeast(v, "3.2.3") : atLeast(v, "4.0.1")),
      mysql2: (v) => atLeast(v, "3.17.0"),
      cookie: (v) => atLeast(v, "0.7.0"),
    };
    const found: Record<string, string[]> = {};
    for (const [location, entry] of Object.entries(lock.packages)) {
      const name = location.split("node_modules/").pop() as string;
      if (!(name in floors) || entry.dev || !entry.version) continue; // dev-only copies never ship
      (found[name] ??= []).push(entry.version);
      expect([location, floors[name]!(entry.version)]).toEqual([location, true]);
    }
    expect(Object.keys(found).sort()).toEqual(["cookie", "jsonwebtoken", "jws", "mysql2"]);
  });

  it("#97/#1 lib/ never decodes a JWT unverified, always pins algorithms, and never uses Math.random or uuid", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else if (full.endsWith(".ts")) files.push(full);
      }
    };
    walk(path.join(root, "lib"));
    let verifyCalls = 0;
    for (const file of files) {
      const source = readFileSync(file, "utf8");
      expect([file, /\bjwt\.decode\b|\bdecode\s*\(\s*token/.test(source)]).toEqual([file, false]);
      expect([file, /Math\.random|from "uuid"/.test(source)]).toEqual([file, false]);
      for (const match of source.matchAll(/jwt\.verify\(/g)) {
        verifyCalls++;
        expect(source.slice(match.index, (match.index ?? 0) + 400)).toMatch(/algorithms:\s*\[/);
      }
    }
    expect(verifyCalls).toBeGreaterThan(0);
  });
});
