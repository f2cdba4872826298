import { isCrossOriginRequest } from "../lib";
import { accessCookie, createApp, describeEachStore, login, refreshCookie, request, setCookies, type TestApp } from "./helpers";

const REFRESH = "/auth/session/refresh";
const SIGNOUT = "/auth/signout";
const TRY_REFRESH = { message: "try refresh token" };

describeEachStore("CSRF defence for cookie-authenticated unsafe requests", (stores) => {
  it.each([
    ["a foreign Origin (an attacker's fetch or form POST)", { Origin: "https://evil.example" }],
    ["Origin: null (sandboxed iframe, data: URL)", { Origin: "null" }],
    ["a sibling port that is not trusted", { Origin: "http://127.0.0.1:1" }],
    ["Sec-Fetch-Site: cross-site without Origin", { "Sec-Fetch-Site": "cross-site" }],
  ])("refuses %s with 401 try refresh token, before the handler runs", async (_label, headers) => {
    const { app, handlerCalls } = createApp({ store: stores.create() });
    const { access } = await login(app);
    const res = await request(app).post("/api/me").set("Cookie", accessCookie(access)).set(headers).expect(401);
    expect(res.body).toEqual({ message: "try refresh token" });
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(handlerCalls.count).toBe(0);
  });

  it("lets the API's own origin, trusted origins, same-origin fetches and GETs through", async () => {
    const { app } = createApp({ store: stores.create(), trustedOrigins: ["https://app.example.com"] });
    const { access } = await login(app);
    const cookie = accessCookie(access);
    const host = "api.example.com";
    await request(app).post("/api/me").set("Cookie", cookie).set("Host", host).set("Origin", `https://${host}`).expect(200);
    await request(app).post("/api/me").set("Cookie", cookie).set("Origin", "https://app.example.com").expect(200);
    await request(app).post("/api/me").set("Cookie", cookie).set("Sec-Fetch-Site", "same-origin").expect(200);
    await request(app).get("/api/me").set("Cookie", cookie).set("Origin", "https://evil.example").expect(200);
  });

  it("refuses a cross-site sign-out and refresh without clearing the victim's cookies", async () => {
    const { app } = createApp({ store: stores.create() });
    const { access, refresh } = await login(app);
    const signout = await request(app).post("/auth/signout").set("Cookie", accessCookie(access)).set("Origin", "https://evil.example").expect(401);
    expect(signout.headers["set-cookie"]).toBeUndefined();
    const refreshed = await request(app)
      .post("/auth/session/refresh")
      .set("Cookie", refreshCookie(refresh))
      .set("Origin", "https://evil.example")
      .expect(401);
    expect(refreshed.body).toEqual({ message: "unauthorised" });
    expect(refreshed.headers["set-cookie"]).toBeUndefined();
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(200);
  });

  it("requires the rid header on unsafe methods when SameSite=None", async () => {
    const { app } = createApp({ store: stores.create(), cookieSameSite: "none", cookieSecure: true });
    // The login sets cookies, so it needs rid too (login CSRF); the SDK sends it on every request.
    await request(app).post("/login").send({ userId: "u" }).expect(403);
    const res = await request(app).post("/login").set("rid", "anti-csrf").send({ userId: "u" }).expect(200);
    const access = `__Host-sAccessToken=${setCookies(res).get("__Host-sAccessToken")!.value}`;
    const refused = await request(app).post("/api/me").set("Cookie", access).expect(401);
    expect(refused.body).toEqual({ message: "try refresh token" });
    await request(app).post("/api/me").set("Cookie", access).set("rid", "anti-csrf").expect(200);
    await request(app).get("/api/me").set("Cookie", access).expect(200);
  });

  it("can be turned off per route (antiCsrfCheck: false) or globally (antiCsrf: none)", async () => {
    const { verifySession } = await import("../lib");
    const { app } = createApp({ store: stores.create() });
    app.post("/api/webhook-ish", verifySession({ antiCsrfCheck: false }), (_req, res) => res.json({ ok: true }));
    const { access } = await login(app);
    await request(app).post("/api/webhook-ish").set("Cookie", accessCookie(access)).set("Origin", "https://evil.example").expect(200);

    const off = createApp({ store: stores.create(), antiCsrf: "none" });
    const other = await login(off.app);
    await request(off.app).post("/api/me").set("Cookie", accessCookie(other.access)).set("Origin", "https://evil.example").expect(200);
  });

  it.each<[string, unknown, string, number]>([
    ["an exact origin, whatever the case of scheme and host", ["https://App.Example.com"], "HTTPS://APP.EXAMPLE.COM", 200],
    ["an exact origin with its default port spelt out", ["https://app.example.com:443"], "https://app.example.com", 200],
    ["an exact origin, not another port", ["https://app.example.com"], "https://app.example.com:8443", 401],
    ["a RegExp over the origin in lower case", [/^https:\/\/[a-z0-9-]+\.example\.com$/], "https://Tenant-7.EXAMPLE.com", 200],
    ["a RegExp, anchored, refusing a look-alike", [/^https:\/\/[a-z0-9-]+\.example\.com$/], "https://evil.example.com.attacker.net", 401],
    ["a global RegExp, every time (lastIndex does not leak between requests)", [/^https:\/\/app\.example\.com$/g], "https://app.example.com", 200],
    ["a function of the origin", (origin: string) => origin.endsWith(".example.com"), "https://b.example.com", 200],
    ["a function that says no", () => false, "https://b.example.com", 401],
    ['"null" (a sandboxed frame), never', [/^.*$/], "null", 401],
  ])("trusts %s", async (_label, trustedOrigins, origin, status) => {
    const { app } = createApp({ store: stores.create(), trustedOrigins: trustedOrigins as never });
    const { access } = await login(app);
    for (let i = 0; i < 2; i++) await request(app).post("/api/me").set("Origin", origin).set("Cookie", accessCookie(access)).expect(status);
  });

  it("refuses bad trustedOrigins at start-up", () => {
    expect(() => createApp({ trustedOrigins: ["https://app.example.com/path"] })).toThrow(/option trustedOrigins must list origins/);
    expect(() => createApp({ trustedOrigins: "https://app.example.com" as never })).toThrow(/must be an array/);
  });
});

describeEachStore("trusted origins, CORS and safe methods", (stores) => {
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

// The CSRF decision exported for hand-written glue (issue 20 item 6): the same answers as the
// middleware's, on a WHATWG Request and on Node's headers.
describe("isCrossOriginRequest", () => {
  const trusted = { trustedOrigins: ["https://app.example.com"] };
  const node = (method: string, headers: Record<string, string>) => ({ method, headers });
  const whatwg = (method: string, headers: Record<string, string>) => new Request("http://api.example/x", { method, headers });

  it.each([
    ["a foreign Origin on a POST", "POST", { origin: "https://evil.example", host: "api.example" }, trusted, true],
    ["a trusted Origin", "POST", { origin: "https://app.example.com", host: "api.example" }, trusted, false],
    ["the API's own origin (by Host)", "POST", { origin: "http://api.example", host: "api.example" }, {}, false],
    ["a cross-site fetch without Origin", "POST", { "sec-fetch-site": "cross-site", host: "api.example" }, {}, true],
    ["a safe method from anywhere", "GET", { origin: "https://evil.example", host: "api.example" }, {}, false],
    ["SameSite=None without rid", "POST", { origin: "https://app.example.com", host: "api.example" }, { ...trusted, cookieSameSite: "none" as const }, true],
    ["SameSite=None with rid", "POST", { origin: "https://app.example.com", host: "api.example", rid: "session" }, { ...trusted, cookieSameSite: "none" as const }, false],
    ["antiCsrf none", "POST", { origin: "https://evil.example", host: "api.example" }, { antiCsrf: "none" as const }, false],
  ])("%s", (_name, method, headers, options, expected) => {
    expect(isCrossOriginRequest(node(method, headers), options)).toBe(expected);
    expect(isCrossOriginRequest(whatwg(method, headers), options)).toBe(expected);
  });

  it("checks its options as the middleware does", () => {
    expect(() => isCrossOriginRequest(node("POST", {}), { trustedOrigins: [/evil/] })).toThrow("which is not anchored");
  });
});
