import { mysqlStore } from "../lib";
import { verifyCoreAccessToken } from "../lib/migration/supertokens/access-token";
import { CoreTables } from "../lib/migration/supertokens/core-tables";
import { decryptCoreRefreshToken } from "../lib/migration/supertokens/refresh-token";
import type { MySqlStore } from "../lib/store/mysql";
import { DATABASE_URL, decodeFrontToken, request, setCookies } from "./helpers";
import { cookieFlow, coreRefreshToken, fixtureAccessTokens, fixtureRefreshTokens, flows, MASTER_KEY, snapshot } from "./support/supertokens-core";
import { coreSuite, HANDLE, json, LOGIN_AT, REFRESH, refreshWithCookie } from "./support/supertokens-suite";

// DESIGN §7.3, reference/supertokens-core-migration.md B.7/B.8: the tokens and rows a real
// core 10.1.8 produced, moved to latchkey over real HTTP on a real MariaDB, at a pinned clock.
const suite = coreSuite();
const { core, lk: LK } = suite;
const migratingApp = suite.app;
const { latchkeyRow, fresh } = suite;

describe("core tokens from the fixtures (offline, pinned clock)", () => {
  it("every fixture access token, v2 to v5, dynamic and static keys, verifies with the public keys read from the core's tables", async () => {
    const store = mysqlStore(DATABASE_URL, { tablePrefix: LK }) as MySqlStore;
    try {
      const keys = await new CoreTables(store.connector, core.prefix).publicKeys();
      expect([...keys.byKid.keys()].sort()).toEqual(
        [`d-${snapshot.session_access_token_signing_keys[0].created_at_time}`, snapshot.jwt_signing_keys[0].key_id].sort(),
      );
      const tokens = fixtureAccessTokens();
      const versions = new Set<string>();
      for (const { name, token, iat } of tokens) {
        const header = JSON.parse(Buffer.from(token.split(".")[0] as string, "base64").toString("utf8"));
        versions.add(`${header.version}${header.kid ? header.kid.slice(0, 1) : "-"}`);
        const info = verifyCoreAccessToken(token, keys, iat * 1000 + 1000);
        expect({ name, handle: info.handle.length }).toEqual({ name, handle: 36 });
      }
      // v2 carries no kid: every key is tried.
      expect([...versions].sort()).toEqual(["2-", "3d", "3s", "4d", "5d", "5s"]);
      expect(tokens.length).toBeGreaterThanOrEqual(15);
    } finally {
      await store.close();
    }
  });

  it("an expired core access token, or one whose signature was changed, earns 'try refresh token'", async () => {
    const store = mysqlStore(DATABASE_URL, { tablePrefix: LK }) as MySqlStore;
    try {
      const keys = await new CoreTables(store.connector, core.prefix).publicKeys();
      const exp = JSON.parse(Buffer.from(cookieFlow.AT0.split(".")[1] as string, "base64url").toString("utf8")).exp as number;
      expect(() => verifyCoreAccessToken(cookieFlow.AT0, keys, exp * 1000 + 1)).toThrow(expect.objectContaining({ code: "TRY_REFRESH_TOKEN", reason: "core access token expired" }));
      const forged = `${cookieFlow.AT0.slice(0, -4)}AAAA`;
      expect(() => verifyCoreAccessToken(forged, keys, LOGIN_AT)).toThrow(expect.objectContaining({ code: "TRY_REFRESH_TOKEN" }));
    } finally {
      await store.close();
    }
  });

  it("every fixture refresh token decrypts; a flipped ciphertext byte or a changed nonce does not", () => {
    const tokens = fixtureRefreshTokens();
    expect(tokens.length).toBeGreaterThanOrEqual(15);
    for (const { name, token } of tokens) expect({ name, decrypted: decryptCoreRefreshToken(token, MASTER_KEY)?.handle.length }).toEqual({ name, decrypted: 36 });
    const [enc, nonce] = cookieFlow.RT0.split(".") as [string, string];
    const bytes = Buffer.from(enc, "base64");
    bytes[20] = (bytes[20] as number) ^ 1;
    expect(decryptCoreRefreshToken(`${bytes.toString("base64")}.${nonce}.V2`, MASTER_KEY)).toBeUndefined();
    expect(decryptCoreRefreshToken(`${enc}.${"0".repeat(64)}.V2`, MASTER_KEY)).toBeUndefined();
    // The two the real core refused: "Tag mismatch!" and "Invalid refresh token".
    for (const name of ["refresh_tampered", "refresh_nonce_mismatch"]) {
      expect(decryptCoreRefreshToken(flows.coreApiVersions[name].request.body.refreshToken, MASTER_KEY)).toBeUndefined();
    }
  });
});

describe("refresh with a core refresh token: the decision table on the captured rows", () => {
  it("RT0 on the login row migrates: latchkey's tokens, the row moved as the app saw it, the core row deleted, onRefreshed with migrated: true", async () => {
    await fresh(cookieFlow.loginRow);
    const app = migratingApp();
    const res = await refreshWithCookie(app, cookieFlow.RT0, [`sAccessToken=${cookieFlow.AT0}`]).expect(200);
    expect(res.body).toEqual({});
    const cookies = setCookies(res);
    const refresh = cookies.get("sRefreshToken")?.value ?? "";
    expect(refresh).toMatch(new RegExp(`^${HANDLE}\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}$`));
    expect(decodeFrontToken(String(res.headers["front-token"])).uid).toBe("user-cookie-1");
    expect(decodeFrontToken(String(res.headers["front-token"])).up).toMatchObject({ role: "admin", sid: HANDLE, iss: "latchkey" });
    const row = await latchkeyRow(HANDLE);
    expect({
      userId: String(row?.user_id),
      payload: json(row?.access_token_payload),
      data: json(row?.session_data),
      createdAt: Number(row?.created_at),
      revokedAt: row?.revoked_at,
    }).toEqual({ userId: "user-cookie-1", payload: { role: "admin" }, data: { plan: "pro" }, createdAt: LOGIN_AT, revokedAt: null });
    expect(await core.row(HANDLE)).toBeUndefined();
    expect(app.events.refreshed).toEqual([expect.objectContaining({ handle: HANDLE, userId: "user-cookie-1", migrated: true })]);

    // From here it is an ordinary latchkey session.
    const access = cookies.get("sAccessToken")?.value ?? "";
    const me = await request(app.app).get("/api/me").set("Cookie", `sAccessToken=${access}`).expect(200);
    expect(me.body).toMatchObject({ userId: "user-cookie-1", handle: HANDLE, payload: { role: "admin" } });
    app.clock.now += 60_000;
    const next = await request(app.app).post(REFRESH).set("Cookie", `sRefreshToken=${refresh}; sAccessToken=${access}`).expect(200);
    expect(setCookies(next).get("sRefreshToken")?.value).not.toBe(refresh);
    expect(app.events.refreshed[1]?.migrated).toBeUndefined();
  });

  it("RT1 and RT1b, sibling children of the login row, and RT0 again, all get the same successor within refreshGrace", async () => {
    await fresh(cookieFlow.loginRow);
    const app = migratingApp();
    const first = setCookies(await refreshWithCookie(app, cookieFlow.RT1).expect(200)).get("sRefreshToken")?.value;
    app.clock.now += 5_000;
    const sibling = setCookies(await refreshWithCookie(app, cookieFlow.RT1b).expect(200)).get("sRefreshToken")?.value;
    const parent = setCookies(await refreshWithCookie(app, cookieFlow.RT0).expect(200)).get("sRefreshToken")?.value;
    expect(first).toMatch(/^feeb4402-/);
    expect([sibling, parent]).toEqual([first, first]);
    expect(app.events.theft).toEqual([]);
    expect(app.events.refreshed.map((event) => event.migrated)).toEqual([true, true, true]);
  });

  it("the successor derives from the row's anchor: two instances migrating the same session at once hand out one successor", async () => {
    await fresh(cookieFlow.loginRow);
    const [a, b] = [migratingApp(), migratingApp()];
    await Promise.all([a.sessions.ready(), b.sessions.ready()]);
    const [one, two] = await Promise.all([refreshWithCookie(a, cookieFlow.RT1), refreshWithCookie(b, cookieFlow.RT1b)]);
    expect([one.status, two.status]).toEqual([200, 200]);
    expect(setCookies(one).get("sRefreshToken")?.value).toBe(setCookies(two).get("sRefreshToken")?.value);
  });

  it("RT1b on the row after the core promoted RT1 is theft: 401, the core row deleted, onTheftDetected, both cookies cleared", async () => {
    await fresh(cookieFlow.promotedRow);
    const app = migratingApp({}, cookieFlow.promotedRow.created_at_time + 20_000);
    const res = await refreshWithCookie(app, cookieFlow.RT1b).expect(401);
    expect(res.body).toEqual({ message: "token theft detected" });
    expect(await core.row(HANDLE)).toBeUndefined();
    expect(await latchkeyRow(HANDLE)).toBeUndefined();
    expect(app.events.theft).toEqual([expect.objectContaining({ handle: HANDLE, userId: "user-cookie-1" })]);
    expect(setCookies(res).get("sRefreshToken")?.value).toBe("");
    expect(res.headers["front-token"]).toBe("remove");
  });

  it("RT1 (current) on the promoted row migrates, and RT1b after it is theft on latchkey's row", async () => {
    await fresh(cookieFlow.promotedRow);
    const app = migratingApp({}, cookieFlow.promotedRow.created_at_time + 20_000);
    await refreshWithCookie(app, cookieFlow.RT1).expect(200);
    const res = await refreshWithCookie(app, cookieFlow.RT1b).expect(401);
    expect(res.body).toEqual({ message: "token theft detected" });
    expect(Number((await latchkeyRow(HANDLE))?.revoked_at)).toBe(app.clock.now);
  });

  it("RT0 after the migration and after refreshGrace is theft: latchkey's session is revoked", async () => {
    await fresh(cookieFlow.loginRow);
    const app = migratingApp();
    const migrated = await refreshWithCookie(app, cookieFlow.RT0).expect(200);
    app.clock.now += 10_001;
    const res = await refreshWithCookie(app, cookieFlow.RT0).expect(401);
    expect(res.body).toEqual({ message: "token theft detected" });
    expect(app.events.theft).toHaveLength(1);
    expect(app.events.revoked).toEqual([expect.objectContaining({ handle: HANDLE, reason: "theft" })]);
    const successor = setCookies(migrated).get("sRefreshToken")?.value ?? "";
    expect((await request(app.app).post(REFRESH).set("Cookie", `sRefreshToken=${successor}`).expect(401)).body).toEqual({ message: "unauthorised" });
  });

  it("an expired core row, a missing one, or a flipped byte is 'unauthorised': tokens cleared, nothing revoked", async () => {
    await fresh(cookieFlow.loginRow, { expires_at: LOGIN_AT + 5_000 });
    const app = migratingApp();
    for (const token of [cookieFlow.RT0, coreRefreshToken({ sessionHandle: "0b8a3d0e-1c6e-4a53-9d6f-6f0d7a1b2c3d", userId: "nobody" })]) {
      const res = await refreshWithCookie(app, token).expect(401);
      expect(res.body).toEqual({ message: "unauthorised" });
      expect(setCookies(res).get("sRefreshToken")?.value).toBe("");
    }
    const [enc, nonce] = cookieFlow.RT0.split(".") as [string, string];
    const bytes = Buffer.from(enc, "base64");
    bytes[30] = (bytes[30] as number) ^ 0x80;
    await fresh(cookieFlow.loginRow);
    expect((await refreshWithCookie(app, `${bytes.toString("base64")}.${nonce}.V2`).expect(401)).body).toEqual({ message: "unauthorised" });
    expect(await core.row(HANDLE)).toBeDefined();
    expect(app.events.theft).toEqual([]);
  });
});

