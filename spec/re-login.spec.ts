import { accessCookie, createApp, describeEachStore, fakeClock, login, refreshCookie, request, setCookies } from "./helpers";

// Issue 10 item 5 (ASVS 5.0 7.2.4, 7.6.2): a login ends the session the request carries,
// and a cookie-mode login runs the CSRF origin check (login CSRF).
describeEachStore("re-login and login CSRF", (stores) => {
  it("revokes the session the request carries (reason re-login) before issuing the new one", async () => {
    const { app, sessions, events } = createApp({ store: stores.create() });
    const first = await login(app, "user-1");
    const res = await request(app).post("/login").set("Cookie", accessCookie(first.access)).send({ userId: "user-1" }).expect(200);
    expect(res.body.handle).not.toBe(first.handle);
    expect((await sessions.getSessionInformation(first.handle))?.revokedAt).toEqual(expect.any(Number));
    expect(events.revoked).toEqual([expect.objectContaining({ handle: first.handle, reason: "re-login" })]);
    await request(app).get("/api/me").set("Cookie", accessCookie(first.access)).expect(401);
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(first.refresh)).expect(401);
    expect(await sessions.getAllSessionHandlesForUser("user-1")).toEqual([res.body.handle]);
  });

  it("ends the carried session also when its access token has expired, and when another user logs in", async () => {
    const clock = fakeClock();
    const { app, sessions } = createApp({ store: stores.create(), clock: clock.now });
    const first = await login(app, "user-1");
    clock.advance(3_600_000); // the access token expired an hour ago; the session is live
    await request(app).post("/login").set("Cookie", accessCookie(first.access)).send({ userId: "user-2" }).expect(200);
    expect((await sessions.getSessionInformation(first.handle))?.revokedAt).toBe(clock.now());
  });

  it("ignores a carried token of another deployment (another signing key): nothing of its own to end", async () => {
    const other = createApp({ store: stores.create() });
    const foreign = await login(other.app, "user-1");
    const { app, events } = createApp({ store: stores.create() });
    await request(app).post("/login").set("Cookie", accessCookie(foreign.access)).send({ userId: "user-1" }).expect(200);
    expect(events.revoked).toEqual([]);
    expect((await other.sessions.getSessionInformation(foreign.handle))?.revokedAt).toBeNull();
  });

  it.each([
    ["an Origin of another site", { Origin: "https://evil.example" }],
    ["Sec-Fetch-Site: cross-site without an Origin", { "Sec-Fetch-Site": "cross-site" }],
  ])("refuses a cookie-mode login with %s: 403, no cookie, no row", async (_label, headers) => {
    const store = stores.create();
    const { app, sessions } = createApp({ store });
    app.use((error: { status?: number; code?: string; message: string }, _req: unknown, res: { status(n: number): { json(b: unknown): void } }, _next: unknown) =>
      res.status(error.status ?? 500).json({ code: error.code, message: error.message }),
    );
    const res = await request(app).post("/login").set(headers).send({ userId: "victim" });
    expect([res.status, res.body]).toEqual([403, { message: "cross-origin request refused", code: "CROSS_ORIGIN_REQUEST" }]);
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(await sessions.getAllSessionHandlesForUser("victim")).toEqual([]);
  });

  it("lets a login through from the API's own origin, a trusted origin, in header mode, and with csrfCheck: false", async () => {
    const { app } = createApp({ store: stores.create(), trustedOrigins: ["https://app.example.com"] });
    app.post("/login-own-defence", async (req, res) => {
      await res.createSession(String(req.body.userId), { csrfCheck: false });
      res.json({ ok: true });
    });
    await request(app).post("/login").set("Host", "api.example.com").set("Origin", "http://api.example.org").send({ userId: "u" }).expect(403);
    await request(app).post("/login").set("Host", "api.example.com").set("Origin", "https://API.Example.com").send({ userId: "u" }).expect(200);
    await request(app).post("/login").set("Origin", "https://APP.example.com").send({ userId: "u" }).expect(200);
    const header = await request(app).post("/login").set("Origin", "https://evil.example").set("st-auth-mode", "header").send({ userId: "u" }).expect(200);
    expect(header.headers["st-access-token"]).toEqual(expect.any(String));
    const optOut = await request(app).post("/login-own-defence").set("Origin", "https://evil.example").send({ userId: "u" }).expect(200);
    expect([...setCookies(optOut).keys()]).toEqual(["sAccessToken", "sRefreshToken"]);
  });

  it.each([
    [{ rememberme: false }, "latchkey: unknown createSession option rememberme. Known: accessTokenPayload, sessionData, rememberMe, sessionTtl, csrfCheck, reauthenticate."],
    [{ csrfCheck: "no" }, "latchkey: createSession option csrfCheck must be true or false (got string)."],
    [{ rememberMe: "no" }, "latchkey: createSession option rememberMe must be true or false (got string)."],
    [{ sessionTtl: { idle: "forever" } }, 'latchkey: createSession option sessionTtl.idle must be seconds as a positive number or a string such as "30m" or "7d" (got "forever").'],
    [{ sessionTtl: { idle: "1d", absolute: "1h" } }, "latchkey: createSession sessionTtl.idle (86400s) must not exceed the absolute lifetime (3600s)."],
    [{ sessionTtl: { idle: "1m" } }, "latchkey: createSession sessionTtl.idle (60s) must be longer than accessTokenTtl (900s)."],
    [{ sessionTtl: { idel: "1h" } }, 'latchkey: createSession option sessionTtl must be an object { idle?, absolute? } of durations such as "30m".'],
  ])("refuses createSession options %j with a TypeError before any write", async (options, message) => {
    const store = stores.create();
    const { app, sessions } = createApp({ store });
    app.post("/login-bad", async (_req, res) => {
      try {
        await res.createSession("u", options as never);
        res.json({ ok: true });
      } catch (error) {
        res.status(400).json({ name: (error as Error).name, message: (error as Error).message });
      }
    });
    const res = await request(app).post("/login-bad").expect(400);
    expect(res.body).toEqual({ name: "TypeError", message });
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(await sessions.getAllSessionHandlesForUser("u")).toEqual([]);
  });
});
