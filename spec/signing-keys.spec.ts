import { createPublicKey } from "node:crypto";
import jwt from "jsonwebtoken";
import { sessionManager } from "../lib";
import { accessCookie, countingStore, createApp, decodeJwtPart, describeEachStore, fakeClock, login, refreshCookie, request, tokensOf } from "./helpers";

const JWKS = "/auth/jwt/jwks.json";
const HOUR = 3_600_000;

describeEachStore("signing keys and JWKS", (stores) => {
  it("publishes the key that signed the token (ES256 by default), and other services can verify with the JWKS alone", async () => {
    const { app } = createApp({ store: stores.create() });
    const { access } = await login(app, "user-1");
    const res = await request(app).get(JWKS).expect(200);
    const kid = decodeJwtPart(access, 0).kid;
    const jwk = res.body.keys.find((key: { kid: string }) => key.kid === kid);
    expect(Object.keys(jwk).sort()).toEqual(["alg", "crv", "kid", "kty", "use", "x", "y"]);
    expect(jwk).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid });
    expect(res.headers["cache-control"]).toMatch(/^public, max-age=\d+$/);
    const claims = jwt.verify(access, createPublicKey({ key: jwk, format: "jwk" }), { algorithms: ["ES256"] });
    expect(claims).toMatchObject({ sub: "user-1", iss: "latchkey" });
  });

  it("publishes an RS256 key the same way when configured", async () => {
    const { app } = createApp({ store: stores.create(), algorithm: "RS256" });
    const { access } = await login(app, "user-1");
    const res = await request(app).get(JWKS).expect(200);
    const kid = decodeJwtPart(access, 0).kid;
    const jwk = res.body.keys.find((key: { kid: string }) => key.kid === kid);
    expect(jwk).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB", kid });
    expect(jwk).not.toHaveProperty("d");
    expect(Buffer.from(jwk.n, "base64url").length).toBeGreaterThanOrEqual(256);
    expect(res.headers["cache-control"]).toMatch(/^public, max-age=\d+$/);

    const claims = jwt.verify(access, createPublicKey({ key: jwk, format: "jwk" }), { algorithms: ["RS256"] });
    expect(claims).toMatchObject({ sub: "user-1", iss: "latchkey" });
  });

  it("keeps a slot that began under RS256 (0.1's default) signing with its key; the next slot gets ES256", async () => {
    const clock = fakeClock(Date.UTC(2026, 10, 28, 0, 10));
    const store = stores.create();
    const old = createApp({ store, clock: clock.now, algorithm: "RS256", keyRotationInterval: "2h" });
    const before = await login(old.app);
    // The upgrade: same store, the ES256 default.
    const upgraded = createApp({ store, clock: clock.now, keyRotationInterval: "2h" });
    const during = await login(upgraded.app);
    expect(decodeJwtPart(during.access, 0).alg).toBe("RS256");
    expect((await request(upgraded.app).get(JWKS).expect(200)).body.keys.map((key: { alg: string }) => key.alg)).toEqual(["RS256"]);
    await request(upgraded.app).get("/api/me").set("Cookie", accessCookie(before.access)).expect(200);
    // Past the slot boundary the next key (published ahead, ES256) signs; the RS256 tokens still verify.
    clock.advance(2 * HOUR);
    const after = tokensOf(await request(upgraded.app).post("/auth/session/refresh").set("Cookie", refreshCookie(during.refresh)).expect(200));
    expect(decodeJwtPart(after.access, 0).alg).toBe("ES256");
  });

  it("signs with ES256 (P-256), in low-S form, and verifies it", async () => {
    const { app } = createApp({ store: stores.create(), algorithm: "ES256" });
    const { access } = await login(app);
    expect(decodeJwtPart(access, 0)).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    const { body } = await request(app).get(JWKS).expect(200);
    expect(body.keys).toEqual([expect.objectContaining({ kty: "EC", crv: "P-256", alg: "ES256" })]);
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
  });

  it("publishes an early rotation's key at least two reload intervals before it signs", async () => {
    const clock = fakeClock();
    const store = stores.create();
    const { app, sessions } = createApp({ store, clock: clock.now, keyRotationInterval: "7d" });
    await login(app);
    const reloadMs = 5 * 60_000; // the reload interval with 7-day rotation
    const rotated = await sessions.rotateKeys();
    expect(rotated.signsFrom - clock.now()).toBe(2 * reloadMs);
    const listed = (await request(app).get(JWKS).expect(200)).body.keys.map((key: { kid: string }) => key.kid);
    expect(listed).toContain(rotated.kid);
    expect(decodeJwtPart((await login(app)).access, 0).kid).not.toBe(rotated.kid);
    clock.advance(2 * reloadMs);
    expect(decodeJwtPart((await login(app)).access, 0).kid).toBe(rotated.kid);
  });

  it("re-reads the keys once (rate-limited) for a token signed by a key published after its last reload", async () => {
    const clock = fakeClock();
    const [storeA, storeB] = stores.pair();
    const a = createApp({ store: storeA, clock: clock.now });
    const counted = countingStore(storeB);
    const b = createApp({ store: counted.store, clock: clock.now });
    await login(b.app); // b has loaded the keys
    const rotated = await a.sessions.rotateKeys();
    clock.advance(rotated.signsFrom - clock.now());
    const fromA = await login(a.app); // signed by the new key, which b has not loaded
    expect(decodeJwtPart(fromA.access, 0).kid).toBe(rotated.kid);
    counted.calls.length = 0;
    await request(b.app).get("/api/me").set("Cookie", accessCookie(fromA.access)).expect(200);
    expect(counted.calls).toEqual(["listSigningKeys"]);
    // A forged kid of latchkey's shape triggers no second reload within the limit.
    const forged = decodeJwtPart(fromA.access, 0);
    const header = Buffer.from(JSON.stringify({ ...forged, kid: "es256-zzzzzzzz-AAAAAAAA" })).toString("base64url");
    counted.calls.length = 0;
    for (let i = 0; i < 5; i++) {
      const res = await request(b.app).get("/api/me").set("Cookie", accessCookie(`${header}.${fromA.access.split(".").slice(1).join(".")}`)).expect(401);
      expect(res.body).toEqual({ message: "try refresh token" });
    }
    expect(counted.calls).toEqual([]);
  });

  it("creates one key, not two, when two instances start at the same moment", async () => {
    const [storeA, storeB] = stores.pair();
    const a = createApp({ store: storeA });
    const b = createApp({ store: storeB });
    const [first, second] = await Promise.all([login(a.app), login(b.app)]);
    expect(decodeJwtPart(first.access, 0).kid).toBe(decodeJwtPart(second.access, 0).kid);
    const { body } = await request(a.app).get(JWKS).expect(200);
    expect(body.keys).toHaveLength(1);
    await request(b.app).get("/api/me").set("Cookie", accessCookie(first.access)).expect(200);
  });

  it("gives two separate deployments different key ids for the same slot", async () => {
    const clock = fakeClock();
    const one = createApp({ store: stores.create(), clock: clock.now });
    const two = createApp({ store: stores.create(), clock: clock.now });
    const [a, b] = [await login(one.app), await login(two.app)];
    expect(decodeJwtPart(a.access, 0).kid).not.toBe(decodeJwtPart(b.access, 0).kid);
    const refused = await request(two.app).get("/api/me").set("Cookie", accessCookie(a.access)).expect(401);
    expect(refused.body).toEqual({ message: "try refresh token" });
  });

  it("rotates on schedule: publishes the next key before it signs, and keeps the old one verifiable", async () => {
    const clock = fakeClock(Date.UTC(2026, 10, 28, 0, 10));
    const store = stores.create();
    const { app } = createApp({ store, clock: clock.now, keyRotationInterval: "2h", accessTokenTtl: "15m", algorithm: "RS256" });
    const before = await login(app);
    const oldKid = decodeJwtPart(before.access, 0).kid as string;

    // Five minutes before the slot ends the next key is published but does not sign yet.
    clock.advance(HOUR + 45 * 60_000);
    const published = await login(app);
    expect(decodeJwtPart(published.access, 0).kid).toBe(oldKid);
    const kids = (await request(app).get(JWKS).expect(200)).body.keys.map((key: { kid: string }) => key.kid);
    expect(kids).toHaveLength(2);
    const newKid = kids.find((kid: string) => kid !== oldKid);

    // Past the slot boundary the new key signs; a token from the old key still verifies.
    clock.advance(6 * 60_000);
    const after = tokensOf(await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(published.refresh)).expect(200));
    expect(decodeJwtPart(after.access, 0).kid).toBe(newKid);
    await request(app).get("/api/me").set("Cookie", accessCookie(published.access)).expect(200);

    // Two access-token lifetimes after the old key stopped signing, it verifies nothing,
    // even a token whose exp is still in the future.
    clock.advance(30 * 60_000);
    const keys = await store.listSigningKeys();
    const sign = (kid: string) =>
      jwt.sign(
        { sub: "user-1", sid: published.handle, iat: Math.floor(clock.now() / 1000), exp: Math.floor(clock.now() / 1000) + 600, iss: "latchkey" },
        keys.find((key) => key.kid === kid)!.privateKey,
        { algorithm: "RS256", header: { alg: "RS256", typ: "at+jwt", kid } },
      );
    const retired = await request(app).get("/api/me").set("Cookie", accessCookie(sign(oldKid))).expect(401);
    expect(retired.body).toEqual({ message: "try refresh token" });
    await request(app).get("/api/me").set("Cookie", accessCookie(sign(newKid))).expect(200);
    expect((await request(app).get(JWKS).expect(200)).body.keys.map((key: { kid: string }) => key.kid)).toEqual([newKid]);
  });
});

describe("sessionManager (standalone management API)", () => {
  it("works on a store without an Express app", async () => {
    const { memoryStore } = await import("../lib");
    const store = memoryStore();
    const { app } = createApp({ store });
    const { handle } = await login(app, "user-9");
    const manager = sessionManager({ store, logger: false });
    expect(await manager.getAllSessionHandlesForUser("user-9")).toEqual([handle]);
    expect(await manager.revokeSession(handle)).toBe(true);
    expect(await manager.revokeSession(handle)).toBe(false);
    expect(await manager.revokeSession("no-such-handle")).toBe(false);
    expect(await manager.getSessionInformation({ not: "a handle" } as never)).toBeNull();
    await manager.close();
  });
});
