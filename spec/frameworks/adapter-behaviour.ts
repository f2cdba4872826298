import request from "supertest";
import { memoryStore, type SessionMiddlewareOptions } from "../../lib";
import { decodeFrontToken, expectCleared, expectCookie, setCookies } from "../helpers";
import type { FrameworkApp, FrameworkDriver } from "./driver";
import { ROLES_CLAIM } from "./roles";

// The behaviours every adapter must show over real HTTP, for spec/frameworks/fetch.spec.ts and
// spec/frameworks/next.spec.ts until the framework conformance suite (spec/frameworks.spec.ts) runs
// their drivers. Memory store; each app closed after its tests.

const EVIL = "https://evil.example";

/** Starts an app of `driver` per `describe` (beforeAll/afterAll) and answers it. */
export function appOf(driver: FrameworkDriver, options: SessionMiddlewareOptions = {}): () => FrameworkApp {
  let app: FrameworkApp | undefined;
  beforeAll(async () => {
    app = await driver.start({ logger: false, store: memoryStore(), ...options });
  });
  afterAll(async () => {
    await app?.close();
  });
  return () => app!;
}

async function login(app: FrameworkApp, userId: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await request(app.url).post("/login").set(headers).send({ userId, ...body }).expect(200);
  const cookies = setCookies(res);
  const pair = (name: string) => `${name}=${cookies.get(name)?.value ?? ""}`;
  return { res, handle: res.body.handle as string, access: pair("sAccessToken"), refresh: pair("sRefreshToken") };
}

export function describeAdapter(driver: FrameworkDriver): void {
  const base = driver.apiBasePath;

  describe(`${driver.name}: cookies`, () => {
    const app = appOf(driver, { claims: [ROLES_CLAIM], refreshGrace: "1ms" });

    it("logs in with HttpOnly token cookies and front-token, and guards a route", async () => {
      const { res, handle, access } = await login(app(), "user-1", {}, { "user-agent": "adapter-spec/1.0" });
      expect(handle).toEqual(expect.any(String));
      expectCookie(res, "sAccessToken", { path: "/", httponly: true, samesite: "Lax", expires: expect.any(String) });
      expectCookie(res, "sRefreshToken", { path: `${base}/session/refresh`, httponly: true, samesite: "Lax" });
      expect(decodeFrontToken(res.headers["front-token"]!).uid).toBe("user-1");
      expect(res.headers["access-control-expose-headers"]).toContain("front-token");

      await request(app().url).get("/api/me").set("Cookie", access).expect(200, { userId: "user-1", handle });
      const anonymous = await request(app().url).get("/api/me").expect(401, { message: "unauthorised" });
      expect(anonymous.headers["set-cookie"]).toBeUndefined();
      await request(app().url).get("/api/optional").expect(200, { userId: null });
      await request(app().url).get("/api/optional").set("Cookie", access).expect(200, { userId: "user-1" });
      await request(app().url).get("/api/strict").set("Cookie", access).expect(200, { userId: "user-1" });
    });

    it("records the client's IP and user agent", async () => {
      await login(app(), "device-user", {}, { "user-agent": "adapter-spec/2.0" });
      const [listed] = await app().sessions.listSessions("device-user");
      expect(listed).toMatchObject({ userAgent: "adapter-spec/2.0", ip: expect.stringMatching(/127\.0\.0\.1$/) });
    });

    it("rotates the refresh token, and a reused one is theft", async () => {
      const { refresh } = await login(app(), "user-2");
      const rotated = await request(app().url).post(`${base}/session/refresh`).set("Cookie", refresh).expect(200, {});
      expectCookie(rotated, "sRefreshToken", { path: `${base}/session/refresh` });
      expect(rotated.headers["front-token"]).toEqual(expect.any(String));
      const theft = await request(app().url).post(`${base}/session/refresh`).set("Cookie", refresh).expect(401, { message: "token theft detected" });
      expectCleared(theft, "sAccessToken", "/");
      await request(app().url).post(`${base}/session/refresh`).expect(401, { message: "unauthorised" });
    });

    it("signs out: the session revoked, the cookies cleared, front-token remove", async () => {
      const { access } = await login(app(), "user-3");
      const res = await request(app().url).post(`${base}/signout`).set("Cookie", access).expect(200, { status: "OK" });
      expectCleared(res, "sAccessToken", "/");
      expectCleared(res, "sRefreshToken", `${base}/session/refresh`);
      expect(res.headers["front-token"]).toBe("remove");
      await request(app().url).get("/api/strict").set("Cookie", access).expect(401, { message: "unauthorised" });
    });

    it("refuses a cross-origin unsafe request and a cross-site login", async () => {
      const { access } = await login(app(), "user-4");
      await request(app().url).post("/api/me").set("Cookie", access).set("Origin", EVIL).expect(401, { message: "try refresh token" });
      await request(app().url).post("/api/me").set("Cookie", access).set("Origin", app().url).expect(200, { userId: "user-4" });
      const refused = await request(app().url).post("/login").set("Origin", EVIL).send({ userId: "victim" });
      expect([refused.status, refused.body]).toEqual([403, { message: "cross-origin request refused", code: "CROSS_ORIGIN_REQUEST" }]);
      expect(refused.headers["set-cookie"]).toBeUndefined();
    });

    it("answers a failed claim 403 with the validation errors", async () => {
      const user = await login(app(), "user-5");
      const refused = await request(app().url).get("/api/admin").set("Cookie", user.access).expect(403);
      expect(refused.body).toMatchObject({ message: "invalid claim", claimValidationErrors: [expect.objectContaining({ id: "st-role" })] });
      const admin = await login(app(), "admin-1");
      await request(app().url).get("/api/admin").set("Cookie", admin.access).expect(200, { userId: "admin-1" });
    });

    it("puts a re-signed access token on the route's response", async () => {
      const { access } = await login(app(), "user-6");
      const res = await request(app().url).post("/api/payload").set("Cookie", access).send({ plan: "pro" }).expect(200, {});
      expectCookie(res, "sAccessToken", { path: "/" });
      expect(decodeFrontToken(res.headers["front-token"]!).up).toMatchObject({ plan: "pro" });
    });

    it("answers a SessionError thrown in a route with latchkey's status and body", async () => {
      const { access } = await login(app(), "user-7");
      await request(app().url).get("/api/boom").set("Cookie", access).expect(503, { message: "session store unavailable", code: "STORE_UNAVAILABLE" });
    });

    it("rememberMe: false sets browser-session cookies", async () => {
      const { res } = await login(app(), "user-8", { rememberMe: false });
      expect(setCookies(res).get("sAccessToken")!.attributes.expires).toBeUndefined();
      expect(setCookies(res).get("sRefreshToken")!.attributes.expires).toBeUndefined();
    });

    it("serves the JWKS", async () => {
      const res = await request(app().url).get(`${base}/jwt/jwks.json`).expect(200);
      expect(res.body.keys[0]).toMatchObject({ kid: expect.any(String) });
      expect(res.headers["cache-control"]).toMatch(/^public, max-age=\d+$/);
    });
  });

  describe(`${driver.name}: header mode`, () => {
    const app = appOf(driver);

    it("sends tokens in st-* headers and takes them back as Bearer", async () => {
      const res = await request(app().url).post("/login").set("st-auth-mode", "header").send({ userId: "user-h" }).expect(200);
      expect(res.headers["set-cookie"]).toBeUndefined();
      const access = res.headers["st-access-token"]!;
      const refresh = res.headers["st-refresh-token"]!;
      await request(app().url).get("/api/me").set("Authorization", `Bearer ${access}`).expect(200, { userId: "user-h", handle: res.body.handle });
      await request(app().url).post("/api/me").set("Authorization", `Bearer ${access}`).set("Origin", EVIL).expect(200);
      const rotated = await request(app().url).post(`${base}/session/refresh`).set("Authorization", `Bearer ${refresh}`).expect(200);
      expect(rotated.headers["st-refresh-token"]).toEqual(expect.any(String));
      expect(rotated.headers["set-cookie"]).toBeUndefined();
    });
  });

  describe(`${driver.name}: Secure cookies`, () => {
    const app = appOf(driver, { cookieSecure: true });

    it("names them __Host- and __Secure-", async () => {
      const res = await request(app().url).post("/login").send({ userId: "user-s" }).expect(200);
      expectCookie(res, "__Host-sAccessToken", { path: "/", secure: true });
      expectCookie(res, "__Secure-sRefreshToken", { path: `${base}/session/refresh`, secure: true });
      const access = `__Host-sAccessToken=${setCookies(res).get("__Host-sAccessToken")!.value}`;
      await request(app().url).get("/api/me").set("Cookie", access).expect(200);
    });
  });
}
