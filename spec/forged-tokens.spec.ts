import { createHmac, createPrivateKey, createPublicKey, createSign, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { SessionStore } from "../lib";
import { verifySession } from "../lib";
import {
  accessCookie,
  countingStore,
  createApp,
  decodeJwtPart,
  describeEachStore,
  fakeClock,
  login,
  refreshCookie,
  request,
  UNAUTHORISED,
  type TestApp,
} from "./helpers";

const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

interface Context {
  token: string; // a real access token
  refresh: string;
  other: { refresh: string }; // another session's refresh token
  kid: string;
  key: KeyObject; // the real private key
  publicPem: string;
  now: number; // seconds
  handle: string;
}

type Case = [label: string, forge: (c: Context) => string, message: "unauthorised" | "try refresh token"];

const claims = (c: Context, extra: Record<string, unknown> = {}) => ({ sub: "user-1", sid: c.handle, iat: c.now, exp: c.now + 600, iss: "latchkey", ...extra });
// Signs header and payload exactly as given (jsonwebtoken would rewrite the header).
const signRaw = (header: Record<string, unknown>, payload: unknown, sign: (input: string) => string) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign(input)}`;
};
const rsa = (key: KeyObject, algorithm = "RSA-SHA256") => (input: string) => createSign(algorithm).update(input).sign(key).toString("base64url");
const signReal = (c: Context, payload: unknown, header: Record<string, unknown> = {}) =>
  signRaw({ alg: "RS256", typ: "at+jwt", kid: c.kid, ...header }, payload, rsa(c.key));
const attacker = generateKeyPairSync("rsa", { modulusLength: 2048 });

const CASES: Case[] = [
  ["alg none", (c) => `${b64({ alg: "none", typ: "at+jwt", kid: c.kid })}.${b64(claims(c))}.`, "unauthorised"],
  ["alg None", (c) => `${b64({ alg: "None", typ: "at+jwt", kid: c.kid })}.${b64(claims(c))}.`, "unauthorised"],
  ["alg NONE", (c) => `${b64({ alg: "NONE", typ: "at+jwt", kid: c.kid })}.${b64(claims(c))}.`, "unauthorised"],
  ["alg nOnE", (c) => `${b64({ alg: "nOnE", typ: "at+jwt", kid: c.kid })}.${b64(claims(c))}.`, "unauthorised"],
  ["HS256 signed with the RSA public key (algorithm confusion)", (c) => signRaw({ alg: "HS256", typ: "at+jwt", kid: c.kid }, claims(c), (i) => createHmac("sha256", c.publicPem).update(i).digest("base64url")), "unauthorised"],
  ["RS384 with the real key (algorithm pinned per key)", (c) => signRaw({ alg: "RS384", typ: "at+jwt", kid: c.kid }, claims(c), rsa(c.key, "RSA-SHA384")), "unauthorised"],
  ["a foreign RSA key under the real kid", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: c.kid }, claims(c), rsa(attacker.privateKey)), "unauthorised"],
  ["an embedded jwk header", (c) => signRaw({ alg: "RS256", typ: "at+jwt", jwk: attacker.publicKey.export({ format: "jwk" }) }, claims(c), rsa(attacker.privateKey)), "try refresh token"],
  ["a kid holding a path", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: "../../../../dev/null" }, claims(c), rsa(c.key)), "try refresh token"],
  ["a kid holding SQL", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: "x' UNION SELECT '1' -- " }, claims(c), rsa(c.key)), "try refresh token"],
  ["a 10 KB kid", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: "k".repeat(10_000) }, claims(c), rsa(c.key)), "unauthorised"],
  ["a kid that is an object", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: {} }, claims(c), rsa(c.key)), "try refresh token"],
  ["an expired token", (c) => signReal(c, claims(c, { iat: c.now - 1000, exp: c.now - 1 })), "try refresh token"],
  ["exp now", (c) => signReal(c, claims(c, { exp: c.now })), "try refresh token"],
  ["no exp", (c) => signReal(c, { sub: "user-1", sid: c.handle, iat: c.now, iss: "latchkey" }), "unauthorised"],
  ["exp as a string", (c) => signReal(c, claims(c, { exp: String(c.now + 600) })), "unauthorised"],
  ["nbf in the future", (c) => signReal(c, claims(c, { nbf: c.now + 60 })), "unauthorised"],
  ["iat an hour ahead", (c) => signReal(c, claims(c, { iat: c.now + 3600 })), "unauthorised"],
  ["a wrong iss", (c) => signReal(c, claims(c, { iss: "https://evil.example" })), "unauthorised"],
  ["no iss", (c) => signReal(c, { sub: "user-1", sid: c.handle, iat: c.now, exp: c.now + 600 }), "unauthorised"],
  ["a crit header", (c) => signReal(c, claims(c), { crit: ["exp"] }), "unauthorised"],
  ["typ JWT (another kind of token)", (c) => signReal(c, claims(c), { typ: "JWT" }), "unauthorised"],
  ["a string payload", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: c.kid }, "admin", rsa(c.key)), "unauthorised"],
  ["an array payload", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: c.kid }, [], rsa(c.key)), "unauthorised"],
  ["a null payload", (c) => signRaw({ alg: "RS256", typ: "at+jwt", kid: c.kid }, null, rsa(c.key)), "unauthorised"],
  ["a numeric sub", (c) => signReal(c, claims(c, { sub: 1 })), "unauthorised"],
  ["no sid", (c) => signReal(c, { sub: "user-1", iat: c.now, exp: c.now + 600, iss: "latchkey" }), "unauthorised"],
  ["a payload that is not JSON", (c) => {
    const input = `${b64({ alg: "RS256", typ: "at+jwt", kid: c.kid })}.${Buffer.from("{").toString("base64url")}`;
    return `${input}.${rsa(c.key)(input)}`;
  }, "unauthorised"],
  ["a header that is not JSON", (c) => `${Buffer.from("{").toString("base64url")}.${c.token.split(".")[1]}.${c.token.split(".")[2]}`, "unauthorised"],
  ["a payload that is not UTF-8", (c) => `${c.token.split(".")[0]}.${Buffer.from([0xc3, 0x28]).toString("base64url")}.${c.token.split(".")[2]}`, "unauthorised"],
  ["a tampered payload with the original signature", (c) => `${c.token.split(".")[0]}.${b64({ ...claims(c), sub: "admin" })}.${c.token.split(".")[2]}`, "unauthorised"],
  ["a stripped signature", (c) => `${c.token.split(".").slice(0, 2).join(".")}.`, "unauthorised"],
  ["a flipped signature character", (c) => c.token.slice(0, -2) + (c.token.at(-2) === "A" ? "B" : "A") + c.token.at(-1), "unauthorised"],
  ["a truncated token", (c) => c.token.slice(0, c.token.length - 20), "unauthorised"],
  ["two segments", (c) => c.token.split(".").slice(0, 2).join("."), "unauthorised"],
  ["five segments (JWE compact)", (c) => `${c.token}.a.b`, "unauthorised"],
  ["a doubly encoded token", (c) => Buffer.from(c.token).toString("base64url"), "unauthorised"],
  ["base64 padding", (c) => `${c.token}==`, "unauthorised"],
  ["a refresh token as the access token", (c) => c.refresh, "unauthorised"],
  ["garbage", () => "garbage", "unauthorised"],
];

describeEachStore("forged and broken access tokens", (stores) => {
  let fixture: TestApp;
  let context: Context;
  let counted: { store: SessionStore; calls: string[] };

  beforeAll(async () => {
    const clock = fakeClock(Date.now());
    counted = countingStore(stores.create());
    // RS256: this table forges RSA signatures (algorithm confusion with the RSA public key);
    // the ES256 default has a table of its own below.
    fixture = createApp({ store: counted.store, clock: clock.now, algorithm: "RS256" });
    const real = await login(fixture.app, "user-1");
    const other = await login(fixture.app, "user-2");
    const [key] = await counted.store.listSigningKeys();
    const privateKey = createPrivateKey(key!.privateKey);
    context = {
      token: real.access,
      refresh: real.refresh,
      other: { refresh: other.refresh },
      kid: key!.kid,
      key: privateKey,
      publicPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(),
      now: Math.floor(clock.now() / 1000),
      handle: real.handle,
    };
  });

  it.each(CASES)("refuses %s with 401 and the exact body, without calling the handler or the store", async (_label, forge, message) => {
    const calls = fixture.handlerCalls.count;
    counted.calls.length = 0;
    const res = await request(fixture.app).get("/api/me").set("Cookie", accessCookie(forge(context)));
    expect([res.status, res.body]).toEqual([401, { message }]);
    expect(fixture.handlerCalls.count).toBe(calls);
    expect(counted.calls).toEqual([]);
  });

  it.each(CASES)("refuses %s in header mode as well", async (_label, forge, message) => {
    const token = forge(context);
    if (/\s/.test(token)) return; // not a header-mode token: `Bearer` takes no spaces
    const res = await request(fixture.app).get("/api/me").set("Authorization", `Bearer ${token}`);
    // A bearer naming no key of this deployment is not latchkey's at all (issue 19 B4): it is
    // no token, so "unauthorised" where a cookie with the same forgery earns "try refresh token".
    const kid = (() => {
      try {
        return (JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as { kid?: unknown }).kid;
      } catch {
        return undefined;
      }
    })();
    expect([res.status, res.body]).toEqual([401, { message: kid === context.kid ? message : "unauthorised" }]);
  });

  it("still accepts the real token (the cases above fail for their forgery alone)", async () => {
    await request(fixture.app).get("/api/me").set("Cookie", accessCookie(context.token)).expect(200);
  });

  it("never lets a forged token through an optional route as anyone", async () => {
    for (const [, forge, message] of CASES) {
      const res = await request(fixture.app).get("/api/optional").set("Cookie", accessCookie(forge(context)));
      if (message === "try refresh token") expect(res.status).toBe(401);
      else expect([res.status, res.body]).toEqual([200, { userId: null }]);
    }
  });

  it("refuses an access token as a refresh token, and another session's refresh token", async () => {
    const asRefresh = await request(fixture.app).post("/auth/session/refresh").set("Cookie", refreshCookie(context.token)).expect(401);
    expect(asRefresh.body).toEqual({ message: "unauthorised" });
    // This session's handle with the other session's lineage and secret: a guess, not theft.
    const spliced = [context.handle, ...context.other.refresh.split(".").slice(1)].join(".");
    const other = await request(fixture.app).post("/auth/session/refresh").set("Cookie", refreshCookie(spliced)).expect(401);
    expect(other.body).toEqual({ message: "unauthorised" });
    expect(fixture.events.theft).toEqual([]);
  });
});

// Algorithm confusion, foreign keys and hostile kids, on RS256 (checklist #10-#19, #59, #72).
const hmac = (digest: string, secret: string) => (input: string) => createHmac(digest, secret).update(input).digest("base64url");

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

describeEachStore("access tokens naming other algorithms, keys or kids", (stores) => {
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

// ES256, the default: one encoding per token, and the time claims checked against the
// configuration and the key (issue 10 item 10).
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const es = (key: KeyObject, dsaEncoding: "ieee-p1363" | "der" = "ieee-p1363") => (input: string) =>
  createSign("SHA256").update(input).sign({ key, dsaEncoding }).toString("base64url");

/** The same signature with S replaced by n - S: it verifies as well, so only the low form may pass. */
function flipS(token: string): string {
  const [header, payload, signature] = token.split(".") as [string, string, string];
  const bytes = Buffer.from(signature, "base64url");
  const s = BigInt(`0x${bytes.subarray(32).toString("hex")}`);
  bytes.set(Buffer.from((P256_ORDER - s).toString(16).padStart(64, "0"), "hex"), 32);
  return `${header}.${payload}.${bytes.toString("base64url")}`;
}

describeEachStore("ES256 access tokens under attack", (stores) => {
  const HOUR = 3_600_000;
  let fixture: TestApp;
  let c: Context;
  let logged: string[];

  beforeAll(async () => {
    // Ten seconds into a key slot, so that a token can claim to predate its key and still be unexpired.
    const start = Math.floor(Date.now() / HOUR) * HOUR + 10_000;
    const clock = fakeClock(start);
    logged = [];
    const store = stores.create();
    fixture = createApp({ store, clock: clock.now, keyRotationInterval: "1h", logger: { warn: (m) => void logged.push(m), error: (m) => void logged.push(m) } });
    fixture.app.get("/api/proto", verifySession(), (req, res) => {
      const payload = req.session!.accessTokenPayload as Record<string, unknown>;
      res.json({ admin: payload.admin ?? null, prototype: Object.getPrototypeOf(payload) === null ? "none" : "some" });
    });
    const real = await login(fixture.app, "user-1");
    const other = await login(fixture.app, "user-2");
    const [key] = await store.listSigningKeys();
    expect(key?.algorithm).toBe("ES256");
    const privateKey = createPrivateKey(key!.privateKey);
    c = {
      token: real.access,
      refresh: real.refresh,
      other: { refresh: other.refresh },
      kid: key!.kid,
      key: privateKey,
      publicPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString(),
      now: Math.floor(clock.now() / 1000),
      handle: real.handle,
    };
  });

  // Signed as latchkey signs, in low-S form, so each case fails for its own defect alone.
  const esSigned = (payload: unknown, encoding: "ieee-p1363" | "der" = "ieee-p1363") => {
    const token = signRaw({ alg: "ES256", typ: "at+jwt", kid: c.kid }, payload, es(c.key, encoding));
    return encoding === "der" || !isHighS(token) ? token : flipS(token);
  };
  const isHighS = (token: string) => BigInt(`0x${Buffer.from(token.split(".")[2] as string, "base64url").subarray(32).toString("hex")}`) > P256_ORDER >> 1n;

  it("accepts a token signed as latchkey signs (so each case below fails for its defect alone)", async () => {
    await request(fixture.app).get("/api/me").set("Cookie", accessCookie(esSigned(claims(c)))).expect(200);
  });

  // First: the warning is rate-limited (one every 30 s per kind), and the table below has a skewed token too.
  it("logs the skew of a token from a clock running ahead, without the token", async () => {
    logged.length = 0;
    const token = esSigned(claims(c, { iat: c.now + 90, exp: c.now + 600 }));
    await request(fixture.app).get("/api/me").set("Cookie", accessCookie(token)).expect(401);
    expect(logged).toEqual([expect.stringMatching(/clock skew between instances: access token issued 90 s in the future/)]);
    expect(logged.join()).not.toContain(token.split(".")[2]);
  });

  it.each<[string, () => string, string]>([
    ["the real token with S replaced by n - S (it verifies, but is not the one encoding)", () => flipS(c.token), "try refresh token"],
    ["a token signed with a high S", () => flipS(esSigned(claims(c))), "try refresh token"],
    ["a signature whose last base64url character carries stray bits", () => {
      const token = esSigned(claims(c));
      const last = token.at(-1) as string;
      // 64 bytes end on a character whose low 4 bits are unused: flipping one keeps the bytes.
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      return token.slice(0, -1) + (alphabet[alphabet.indexOf(last) ^ 1] as string);
    }, "unauthorised"],
    ["a DER-encoded signature (JOSE needs raw r || s)", () => esSigned(claims(c), "der"), "unauthorised"],
    ["an iat 60 s ahead (clock skew a refresh cures)", () => esSigned(claims(c, { iat: c.now + 60, exp: c.now + 600 })), "try refresh token"],
    ["an iat ten minutes ahead", () => esSigned(claims(c, { iat: c.now + 600, exp: c.now + 900 })), "unauthorised"],
    ["a lifetime longer than accessTokenTtl (one hour)", () => esSigned(claims(c, { iat: c.now - 10, exp: c.now + 3590 })), "try refresh token"],
    ["an iat before its key began to sign", () => esSigned(claims(c, { iat: c.now - 20, exp: c.now + 500 })), "unauthorised"],
  ])("refuses %s", async (_label, forge, message) => {
    const token = forge();
    expect(Buffer.from(token.split(".")[2] as string, "base64url").length).toBeGreaterThan(0);
    const res = await request(fixture.app).get("/api/me").set("Cookie", accessCookie(token));
    expect([res.status, res.body]).toEqual([401, { message }]);
  });

  it("issues only low-S tokens itself", async () => {
    for (let i = 0; i < 20; i++) {
      const { access } = await login(fixture.app, `user-${i}`);
      expect(isHighS(access)).toBe(false);
    }
  });

  it("keeps a __proto__ claim an ordinary property: it never becomes the payload's prototype", async () => {
    const payload = JSON.parse(`{"sub":"user-1","sid":"${c.handle}","iat":${c.now},"exp":${c.now + 600},"iss":"latchkey","__proto__":{"admin":true}}`);
    const res = await request(fixture.app).get("/api/proto").set("Cookie", accessCookie(esSigned(payload))).expect(200);
    expect(res.body).toEqual({ admin: null, prototype: "none" });
  });

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
