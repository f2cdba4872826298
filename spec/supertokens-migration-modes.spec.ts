import { memoryStore, mysqlStore, sessionMiddleware, type SessionStore } from "../lib";
import { DATABASE_URL, request, setCookies, uniquePrefix, type TestApp } from "./helpers";
import { CoreDatabase, cookieFlow, coreRefreshToken, flows, hash2, type CoreRowSeed } from "./support/supertokens-core";
import { coreSuite, HANDLE, LOGIN_AT, REFRESH, refreshWithCookie } from "./support/supertokens-suite";

// DESIGN §7.3: lifetimes, production cookie names, header mode, anti-CSRF VIA_TOKEN, tenants,
// the option's checks, and the core's schemas before 6.0 and from 12.1, on the captured rows.
const suite = coreSuite();
const { lk: LK, core } = suite;
const migratingApp = suite.app;
const { latchkeyRow, fresh } = suite;

describe("lifetimes, modes and options", () => {
  it("a core session created 200 days ago migrates and keeps minRemainingLifetime (default 30 days, and as configured)", async () => {
    const now = LOGIN_AT + 10_000;
    const day = 86_400_000;
    for (const [option, remaining] of [[undefined, 30 * day], ["45d", 45 * day]] as const) {
      await fresh(cookieFlow.loginRow, { created_at_time: now - 200 * day });
      const app = migratingApp(option ? { migrateFromSuperTokens: { minRemainingLifetime: option } } : {}, now);
      await refreshWithCookie(app, cookieFlow.RT0).expect(200);
      const row = await latchkeyRow(HANDLE);
      expect(Number(row?.absolute_expires_at)).toBe(now + remaining);
      expect(Number(row?.expires_at)).toBe(now + 30 * day);
      expect(Number(row?.created_at)).toBe(now - 200 * day);
    }
  });

  it.each([
    ["NODE_ENV=production", {}],
    ["cookieSecure: true", { cookieSecure: true }],
  ])("with %s a plain sRefreshToken migrates; the plain names are cleared and the prefixed ones set", async (_, options) => {
    await fresh(cookieFlow.loginRow);
    const env = process.env.NODE_ENV;
    if (!("cookieSecure" in options)) process.env.NODE_ENV = "production";
    let app: TestApp;
    try {
      app = migratingApp({ ...options, migrateFromSuperTokens: { cookieDomain: ".example.com" } });
    } finally {
      process.env.NODE_ENV = env;
    }
    const res = await refreshWithCookie(app, cookieFlow.RT0, [`sAccessToken=${cookieFlow.AT0}`]).expect(200);
    const lines = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
    expect(lines.find((line) => line.startsWith("__Host-sAccessToken=ey"))).toMatch(/Path=\/;.*Secure/);
    expect(lines.find((line) => line.startsWith("__Secure-sRefreshToken=feeb4402-"))).toMatch(/Path=\/auth\/session\/refresh/);
    const cleared = lines.filter((line) => /^s(Access|Refresh)Token=;/.test(line)).map((line) => line.replace(/; Expires=[^;]+/, ""));
    expect(cleared.sort()).toEqual(
      [
        "sAccessToken=; Path=/; HttpOnly; Secure; SameSite=Lax",
        "sAccessToken=; Path=/; HttpOnly; Domain=.example.com; Secure; SameSite=Lax",
        "sRefreshToken=; Path=/auth/session/refresh; HttpOnly; Secure; SameSite=Lax",
        "sRefreshToken=; Path=/auth/session/refresh; HttpOnly; Domain=.example.com; Secure; SameSite=Lax",
      ].sort(),
    );
  });

  it("a plain-named latchkey refresh token is still ignored when cookies are Secure: only a core-shaped one is read by its plain name", async () => {
    const app = migratingApp({ cookieSecure: true });
    const login = await request(app.app).post("/login").send({ userId: "u-plain" }).expect(200);
    const latchkeyToken = setCookies(login).get("__Secure-sRefreshToken")?.value ?? "";
    expect(latchkeyToken).toMatch(/^[0-9a-f-]{36}\./);
    const res = await request(app.app).post(REFRESH).set("Cookie", `sRefreshToken=${latchkeyToken}`).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("header mode: Authorization: Bearer <core RT> migrates and answers in st-access-token / st-refresh-token, no cookies", async () => {
    const step = flows.headerMode.steps[0];
    await fresh(step.row);
    const app = migratingApp({}, step.row.created_at_time + 10_000);
    const res = await request(app.app).post(REFRESH).set("Authorization", `Bearer ${step.response.refreshToken}`).set("st-auth-mode", "header").expect(200);
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.headers["st-refresh-token"]).toMatch(new RegExp(`^${step.row.session_handle}\\.`));
    const me = await request(app.app).get("/api/me").set("Authorization", `Bearer ${res.headers["st-access-token"]}`).expect(200);
    expect(me.body).toMatchObject({ userId: "user-header-1", payload: { role: "user", nested: { a: [1, 2] } } });
  });

  it("keeps the user id the app saw: sub of the core access token sent along (account linking), else session_info's", async () => {
    // With account linking session_info holds the recipe user; the token's sub is the primary one the app saw.
    for (const [cookies, expected] of [
      [[`sAccessToken=${cookieFlow.AT0}`], "user-cookie-1"],
      [[], "recipe-user-7"],
      // A core token of another session says nothing about this one.
      [[`sAccessToken=${flows.coreApiVersions.v5_cdi5_3.body.accessToken.token}`], "recipe-user-7"],
    ] as const) {
      await fresh(cookieFlow.loginRow, { user_id: "recipe-user-7" });
      const app = migratingApp();
      await refreshWithCookie(app, cookieFlow.RT0, [...cookies]).expect(200);
      expect(String((await latchkeyRow(HANDLE))?.user_id)).toBe(expected);
    }
  });

  it('antiCsrf "VIA_TOKEN": a cookie-mode refresh needs the anti-csrf header the core issued with the token', async () => {
    await fresh(cookieFlow.loginRow);
    const app = migratingApp({ migrateFromSuperTokens: { antiCsrf: "VIA_TOKEN" } });
    const wrong = await refreshWithCookie(app, cookieFlow.RT0).set("anti-csrf", "not-it").expect(401);
    expect(wrong.body).toEqual({ message: "unauthorised" });
    expect(await core.row(HANDLE)).toBeDefined();
    await refreshWithCookie(app, cookieFlow.RT0).set("anti-csrf", cookieFlow.antiCsrf0).expect(200);
  });

  it("a session of another tenant is refused (a re-login) with one clear log line, and nothing is written", async () => {
    const warnings: string[] = [];
    const app = migratingApp({ logger: { warn: (message: string) => warnings.push(message), error: () => {} } });
    const token = coreRefreshToken({ sessionHandle: "1f0c7d6e-7a1b-4c2d-9e3f-0a1b2c3d4e5f_t1", userId: "u-t1", tenantId: "t1" });
    expect((await refreshWithCookie(app, token).expect(401)).body).toEqual({ message: "unauthorised" });
    expect(warnings.filter((line) => line.includes("tenant other than public"))).toHaveLength(1);
  });

  it("the option needs the MySQL store, and its fields are checked", () => {
    expect(() => sessionMiddleware({ store: memoryStore(), logger: false, migrateFromSuperTokens: {} })).toThrow(/migrateFromSuperTokens needs the MySQL store/);
    const store = mysqlStore(DATABASE_URL, { tablePrefix: LK }) as SessionStore;
    const bad: [unknown, RegExp][] = [
      [{ antiCsrf: "VIA_HEADER" }, /migrateFromSuperTokens\.antiCsrf must be one of "VIA_TOKEN", "NONE"/],
      [{ tablePrefix: "st-" }, /migrateFromSuperTokens\.tablePrefix/],
      [{ minRemainingLifetime: "soon" }, /migrateFromSuperTokens\.minRemainingLifetime/],
      [{ acceptCoreAccesTokens: true }, /migrateFromSuperTokens\.acceptCoreAccesTokens is unknown/],
      ["yes", /option migrateFromSuperTokens must be an object/],
    ];
    for (const [value, message] of bad) {
      expect(() => sessionMiddleware({ store, logger: false, migrateFromSuperTokens: value as never })).toThrow(TypeError);
      expect(() => sessionMiddleware({ store, logger: false, migrateFromSuperTokens: value as never })).toThrow(message);
    }
    return store.close();
  });
});

describe("core schemas of other versions", () => {
  it.each([
    ["4.x (no app_id/tenant_id, no use_static_key)", "4.x"],
    ["12.1 (prev_refresh_token_hash_2, refresh_token_rotated_at)", "12.1"],
  ] as const)("core %s: RT0 migrates", async (_, version) => {
    const other = new CoreDatabase(`${uniquePrefix()}v_`, version);
    await other.create();
    try {
      const changes: Partial<CoreRowSeed> =
        version === "12.1"
          ? // A 12.1 core rotated RT0 away 5 s ago: the previous token within its grace window is accepted.
            { refresh_token_hash_2: hash2(cookieFlow.RT1), prev_refresh_token_hash_2: hash2(cookieFlow.RT0), refresh_token_rotated_at: LOGIN_AT + 5_000 }
          : {};
      await fresh(cookieFlow.loginRow, changes, other);
      const app = migratingApp({}, LOGIN_AT + 10_000, other);
      await refreshWithCookie(app, cookieFlow.RT0).expect(200);
      expect(await other.row(HANDLE)).toBeUndefined();
      expect(String((await latchkeyRow(HANDLE))?.user_id)).toBe("user-cookie-1");
    } finally {
      await other.drop();
    }
  });
});

it("a core that never made a refresh_token_key: every core refresh token is 'unauthorised', and latchkey creates none", async () => {
  const other = new CoreDatabase(`${uniquePrefix()}nk_`);
  await other.create();
  try {
    await (await other.connection()).query(`DELETE FROM ${other.table("key_value")} WHERE name = 'refresh_token_key'`);
    await fresh(cookieFlow.loginRow, {}, other);
    const app = migratingApp({}, LOGIN_AT + 10_000, other);
    for (let i = 0; i < 2; i++) expect((await refreshWithCookie(app, cookieFlow.RT0).expect(401)).body).toEqual({ message: "unauthorised" });
    const [rows] = await (await other.connection()).query(`SELECT name FROM ${other.table("key_value")} WHERE name = 'refresh_token_key'`);
    expect(rows).toEqual([]);
    expect(await other.row(HANDLE)).toBeDefined();
  } finally {
    await other.drop();
  }
});
