import { memoryStore, sessionMiddleware, verifySession } from "../lib";
import { accessCookie, createApp, describeEachStore, expectCookie, login, request, setCookies, UNAUTHORISED } from "./helpers";

const REFRESH = "/auth/session/refresh";
const SIGNOUT = "/auth/signout";

describeEachStore("token cookies", (stores) => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  it("omits Secure only for plain-http development", async () => {
    const { app } = createApp({ store: stores.create() });
    const res = await request(app).post("/login").send({ userId: "u" }).expect(200);
    expect([...setCookies(res).keys()]).toEqual(["sAccessToken", "sRefreshToken"]);
    expectCookie(res, "sAccessToken", { secure: undefined, domain: undefined });
  });

  it("sets Secure and the __Host-/__Secure- prefixes on requests that came over HTTPS (trust proxy)", async () => {
    const { app } = createApp({ store: stores.create() });
    app.set("trust proxy", "loopback");
    const res = await request(app).post("/login").set("X-Forwarded-Proto", "https").send({ userId: "u" }).expect(200);
    expectCookie(res, "__Host-sAccessToken", { secure: true, httponly: true, path: "/", domain: undefined });
    const refresh = expectCookie(res, "__Secure-sRefreshToken", { secure: true, httponly: true, path: REFRESH });

    // The prefixed names are the ones read back over HTTPS.
    const rotated = await request(app)
      .post(REFRESH)
      .set("X-Forwarded-Proto", "https")
      .set("Cookie", `__Secure-sRefreshToken=${refresh.value}`)
      .expect(200);
    const access = expectCookie(rotated, "__Host-sAccessToken", { secure: true }).value;
    await request(app).get("/api/me").set("X-Forwarded-Proto", "https").set("Cookie", `__Host-sAccessToken=${access}`).expect(200);
    // ...and an unprefixed cookie, which any subdomain could have planted, is not.
    await request(app).get("/api/me").set("X-Forwarded-Proto", "https").set("Cookie", `sAccessToken=${access}`).expect(401);
  });

  it("ignores X-Forwarded-Proto when the app does not trust the proxy", async () => {
    const { app } = createApp({ store: stores.create() });
    const res = await request(app).post("/login").set("X-Forwarded-Proto", "https").send({ userId: "u" }).expect(200);
    expectCookie(res, "sAccessToken", { secure: undefined });
  });

  it("always sets Secure when NODE_ENV=production", async () => {
    process.env.NODE_ENV = "production";
    const { app } = createApp({ store: stores.create() });
    const res = await request(app).post("/login").send({ userId: "u" }).expect(200);
    expectCookie(res, "__Host-sAccessToken", { secure: true });
  });

  it("keeps the plain names with Domain when cookieDomain is set", async () => {
    const { app } = createApp({ store: stores.create(), cookieDomain: "example.com", cookieSecure: true });
    const res = await request(app).post("/login").send({ userId: "u" }).expect(200);
    expectCookie(res, "sAccessToken", { secure: true, domain: "example.com", path: "/" });
    expectCookie(res, "sRefreshToken", { secure: true, domain: "example.com", path: REFRESH });
  });

  it("honours cookieSameSite and a custom apiBasePath in the refresh cookie's path and the endpoints", async () => {
    const { app } = createApp({ store: stores.create(), cookieSameSite: "strict", apiBasePath: "/api/auth/" });
    const res = await request(app).post("/login").send({ userId: "u" }).expect(200);
    const refresh = expectCookie(res, "sRefreshToken", { samesite: "Strict", path: "/api/auth/session/refresh" });
    await request(app).post("/api/auth/session/refresh").set("Cookie", `sRefreshToken=${refresh.value}`).expect(200);
    await request(app).post(REFRESH).set("Cookie", `sRefreshToken=${refresh.value}`).expect(404);
  });

  it("answers two access cookies (after a cookieDomain change) with try refresh token, and the refresh clears the stale pair", async () => {
    const { app } = createApp({ store: stores.create(), cookieDomain: "example.com", cookieSecure: true });
    const stale = await request(app).post("/login").send({ userId: "u" }).expect(200);
    const current = await request(app).post("/login").send({ userId: "u" }).expect(200);
    const old = { access: setCookies(stale).get("sAccessToken")!.value, refresh: setCookies(stale).get("sRefreshToken")!.value };
    const now = { access: setCookies(current).get("sAccessToken")!.value, refresh: setCookies(current).get("sRefreshToken")!.value };
    await request(app).post("/auth/signout").set("Cookie", `sAccessToken=${old.access}`).expect(200); // the stale one is dead

    const me = await request(app).get("/api/me").set("Cookie", `sAccessToken=${old.access}; sAccessToken=${now.access}`).expect(401);
    expect(me.body).toEqual({ message: "try refresh token" });

    const res = await request(app)
      .post(REFRESH)
      .set("Cookie", `sRefreshToken=${old.refresh}; sRefreshToken=${now.refresh}; sAccessToken=${old.access}; sAccessToken=${now.access}`)
      .expect(200);
    const lines = res.headers["set-cookie"] as unknown as string[];
    expect(lines.filter((line) => line.startsWith("sAccessToken=;") && !/Domain=/.test(line))).toHaveLength(1);
    expect(lines.filter((line) => line.startsWith("sRefreshToken=;") && !/Domain=/.test(line))).toHaveLength(1);
    const fresh = setCookies(res).get("sAccessToken");
    expect(lines.some((line) => line.startsWith("sAccessToken=ey") && /Domain=example.com/.test(line))).toBe(true);
    expect(fresh).toBeDefined();
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
