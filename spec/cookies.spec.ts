import { createApp, describeEachStore, expectCookie, request, setCookies } from "./helpers";

const REFRESH = "/auth/session/refresh";

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
});
