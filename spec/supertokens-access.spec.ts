import { request, setCookies } from "./helpers";
import { cookieFlow, flows, snapshot } from "./support/supertokens-core";
import { coreSuite, HANDLE, LOGIN_AT, refreshWithCookie } from "./support/supertokens-suite";

// DESIGN §7.3, reference B.7 "Access tokens": what verifySession and sign-out do with the
// access tokens a real core 10.1.8 issued, v2 to v5, on dynamic and static keys.
const suite = coreSuite();
const migratingApp = suite.app;
const TRY_REFRESH = { message: "try refresh token" };
const versions = flows.coreApiVersions;
const V2 = versions.v2_cdi2_9.body.accessToken.token as string;
const BY_VERSION: [string, string, string][] = [
  ["v2 (fixed header, no kid)", V2, "user-v2"],
  ["v3, dynamic key", versions.v3_cdi2_21_dynamic.body.accessToken.token, "user-v3"],
  ["v3, static key", versions.v3_cdi2_21_static.body.accessToken.token, "user-v3s"],
  ["v4", versions.v4_cdi3_0.body.accessToken.token, "user-v4"],
  ["v5, dynamic key", versions.v5_cdi5_3.body.accessToken.token, "user-v5"],
  ["v5, static key", versions.v5_cdi5_3_static_antiCsrf.body.accessToken.token, "user-v5s"],
];

describe("a core access token, by default: 401 'try refresh token' and nothing cleared (the refresh migrates)", () => {
  it.each([
    ["a v5 token in the plain sAccessToken cookie", "Cookie", `sAccessToken=${cookieFlow.AT0}`],
    ["a v2 token in the plain sAccessToken cookie", "Cookie", `sAccessToken=${V2}`],
    ["a v5 token as Authorization: Bearer", "Authorization", `Bearer ${cookieFlow.AT0}`],
    ["a v2 token as Authorization: Bearer", "Authorization", `Bearer ${V2}`],
  ])("%s", async (_, name, value) => {
    const app = migratingApp();
    for (const res of [await request(app.app).get("/api/me").set(name, value), await request(app.app).post("/auth/signout").set(name, value)]) {
      expect({ status: res.status, body: res.body }).toEqual({ status: 401, body: TRY_REFRESH });
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(res.headers["front-token"]).toBeUndefined();
    }
    expect(app.handlerCalls.count).toBe(0);
  });

  it("with cookieSecure: true the plain-named core cookie is read too, and the refresh it triggers moves the session", async () => {
    await suite.fresh(cookieFlow.loginRow);
    const app = migratingApp({ cookieSecure: true });
    const me = await request(app.app).get("/api/me").set("Cookie", `sAccessToken=${cookieFlow.AT0}`).expect(401);
    expect(me.body).toEqual(TRY_REFRESH);
    expect(me.headers["set-cookie"]).toBeUndefined();
    const refreshed = await refreshWithCookie(app, cookieFlow.RT0, [`sAccessToken=${cookieFlow.AT0}`]).expect(200);
    const access = setCookies(refreshed).get("__Host-sAccessToken")?.value ?? "";
    expect((await request(app.app).get("/api/me").set("Cookie", `__Host-sAccessToken=${access}`).expect(200)).body.userId).toBe("user-cookie-1");
  });
});

describe("acceptCoreAccessTokens: verified with the core's public keys until they expire", () => {
  it.each(BY_VERSION)("%s verifies and opens the session as the app saw it", async (_, token, userId) => {
    const app = migratingApp({ migrateFromSuperTokens: { acceptCoreAccessTokens: true } });
    const res = await request(app.app).get("/api/me").set("Authorization", `Bearer ${token}`).expect(200);
    expect(res.body).toMatchObject({ userId, payload: { k: "v" } });
    expect(res.body.payload).not.toHaveProperty("sessionHandle");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("the captured browser session: its payload at the root (role, the SDK's iss dropped), in the plain cookie", async () => {
    const app = migratingApp({ migrateFromSuperTokens: { acceptCoreAccessTokens: true } });
    const res = await request(app.app).get("/api/me").set("Cookie", `sAccessToken=${cookieFlow.AT0}`).expect(200);
    expect(res.body).toEqual({ userId: "user-cookie-1", handle: HANDLE, payload: { role: "admin" }, expiresAt: 1796601050000 });
  });

  it("an expired core access token, or one with a changed signature, is 'try refresh token' with nothing cleared", async () => {
    const app = migratingApp({ migrateFromSuperTokens: { acceptCoreAccessTokens: true } }, LOGIN_AT + 3_700_000);
    const forged = `${cookieFlow.AT0.slice(0, -6)}AAAAAA`;
    for (const token of [cookieFlow.AT0, forged]) {
      const res = await request(app.app).get("/api/me").set("Cookie", `sAccessToken=${token}`).expect(401);
      expect(res.body).toEqual(TRY_REFRESH);
      expect(res.headers["set-cookie"]).toBeUndefined();
    }
  });

  it("checkDatabase honours the core row, then latchkey's: deleted or revoked is 'unauthorised'", async () => {
    await suite.fresh(cookieFlow.loginRow);
    const app = migratingApp({ migrateFromSuperTokens: { acceptCoreAccessTokens: true } });
    const strict = () => request(app.app).get("/api/strict").set("Cookie", `sAccessToken=${cookieFlow.AT0}`);
    expect((await strict()).status).toBe(200);
    await suite.core.seed(cookieFlow.loginRow, { expires_at: LOGIN_AT });
    await (await suite.core.connection()).query(`DELETE FROM ${suite.core.table("session_info")} WHERE session_handle = ?`, [HANDLE]);
    expect((await strict()).body).toEqual({ message: "unauthorised" });
    // Moved to latchkey: its row is the authority, and its revocation ends the core token too.
    await suite.fresh(cookieFlow.loginRow);
    await refreshWithCookie(app, cookieFlow.RT0).expect(200);
    expect((await strict()).status).toBe(200);
    expect(await app.sessions.revokeSession(HANDLE)).toBe(true);
    expect((await strict()).body).toEqual({ message: "unauthorised" });
    expect((await request(app.app).get("/api/me").set("Cookie", `sAccessToken=${cookieFlow.AT0}`)).body).toEqual({ message: "unauthorised" });
  });

  it('antiCsrf "VIA_TOKEN": an unsafe request with the core token needs its anti-csrf header', async () => {
    // (No latchkey row of this handle, revoked or not, from the test before.)
    await suite.fresh(cookieFlow.loginRow);
    const app = migratingApp({ migrateFromSuperTokens: { acceptCoreAccessTokens: true, antiCsrf: "VIA_TOKEN" } });
    const post = () => request(app.app).post("/api/me").set("Cookie", `sAccessToken=${cookieFlow.AT0}`);
    expect((await post()).body).toEqual(TRY_REFRESH);
    expect((await post().set("anti-csrf", "54717235-0000-0000-0000-c5eb5fc77934")).body).toEqual(TRY_REFRESH);
    expect((await post().set("anti-csrf", cookieFlow.antiCsrf0)).body).toMatchObject({ userId: "user-cookie-1" });
    expect((await request(app.app).get("/api/me").set("Cookie", `sAccessToken=${cookieFlow.AT0}`)).status).toBe(200);
  });

  it("the core's key tables hold what the reference says: one dynamic and one static RS256 key", () => {
    expect(snapshot.session_access_token_signing_keys).toHaveLength(1);
    expect(snapshot.jwt_signing_keys.map((key: { algorithm: string }) => key.algorithm)).toEqual(["RS256"]);
  });
});
