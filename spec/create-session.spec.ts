import { randomUUID } from "node:crypto";
import {
  accessCookie,
  countingStore,
  createApp,
  decodeFrontToken,
  decodeJwtPart,
  describeEachStore,
  expectCookie,
  login,
  refreshCookie,
  request,
  SESSION_METHODS,
  setCookies,
  tokensOf,
  UNAUTHORISED,
} from "./helpers";

const REFRESH = "/auth/session/refresh";
const SIGNOUT = "/auth/signout";

describeEachStore("res.createSession", (stores) => {
  it("stores one row and sets both HttpOnly cookies and front-token before the route responds", async () => {
    const store = stores.create();
    const { app, events } = createApp({ store });
    const res = await request(app)
      .post("/login")
      .set("User-Agent", "spec-agent/1.0")
      .send({ userId: "user-1", payload: { role: "admin" }, data: { plan: "pro" } })
      .expect(200);

    expect(res.body).toEqual({ message: "User logged in!", handle: expect.any(String) });
    const access = expectCookie(res, "sAccessToken", { path: "/", httponly: true, samesite: "Lax", secure: undefined });
    const refresh = expectCookie(res, "sRefreshToken", { path: "/auth/session/refresh", httponly: true, samesite: "Lax" });
    expect(access.value.split(".")).toHaveLength(3);
    // <handle>.<lineage: 128 bits>.<secret: 256 bits>
    expect(refresh.value).toMatch(new RegExp(`^${res.body.handle}\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}$`));
    expect(res.headers["access-control-expose-headers"]).toBe("front-token");

    const row = await store.findSession(res.body.handle);
    expect(row).toMatchObject({
      userId: "user-1",
      accessTokenPayload: { role: "admin" },
      sessionData: { plan: "pro" },
      revokedAt: null,
      userAgent: "spec-agent/1.0",
    });
    expect(events.created).toEqual([
      {
        handle: res.body.handle,
        userId: "user-1",
        ip: expect.any(String),
        userAgent: "spec-agent/1.0",
        clientIp: expect.any(String),
        clientUserAgent: "spec-agent/1.0",
        at: expect.any(Number),
      },
    ]);
  });

  it("sends a front-token the SDK can decode: standard base64 JSON {uid, ate (ms), up}", async () => {
    const { app } = createApp({ store: stores.create() });
    const { res, access } = await login(app, "user-ü 😀", { payload: { role: "admin" } });
    const front = decodeFrontToken(res.headers["front-token"] as string);
    const claims = decodeJwtPart(access, 1);
    expect(front.uid).toBe("user-ü 😀");
    expect(front.ate).toBe((claims.exp as number) * 1000);
    expect(front.up).toEqual(claims);
    expect(front.up.role).toBe("admin");
    expect(res.headers["front-token"]).not.toMatch(/[-_]/);
  });

  it("signs the access token with the documented claims and header", async () => {
    const { app } = createApp({ store: stores.create(), issuer: "https://api.example.com", audience: "web" });
    const { access, handle } = await login(app, "user-1", { payload: { role: "admin" } });
    const header = decodeJwtPart(access, 0);
    const claims = decodeJwtPart(access, 1);
    expect(header).toEqual({ alg: "ES256", typ: "at+jwt", kid: expect.any(String) });
    // Never longer than the 15-minute lifetime: exp is floored from milliseconds, iat too.
    expect([899, 900]).toContain((claims.exp as number) - (claims.iat as number));
    expect(claims).toEqual({
      role: "admin",
      sub: "user-1",
      sid: handle,
      iat: expect.any(Number),
      exp: expect.any(Number),
      iss: "https://api.example.com",
      aud: "web",
      authTime: claims.iat,
    });
  });

  it("signs with RS256 when configured, and the token verifies", async () => {
    const { app } = createApp({ store: stores.create(), algorithm: "RS256" });
    const { access } = await login(app);
    expect(decodeJwtPart(access, 0)).toEqual({ alg: "RS256", typ: "at+jwt", kid: expect.stringMatching(/^rs256-/) });
    await request(app).get("/api/me").set("Cookie", `sAccessToken=${access}`).expect(200);
  });

  it("gives the refresh cookie the session's idle lifetime and the access cookie the same, outliving the JWT", async () => {
    const { app } = createApp({ store: stores.create(), refreshTokenTtl: "2d", absoluteTtl: "3d" });
    const res = (await login(app)).res;
    const cookies = setCookies(res);
    const expires = new Date(cookies.get("sRefreshToken")?.attributes.expires as string).getTime();
    expect(Math.abs(expires - (Date.now() + 2 * 86_400_000))).toBeLessThan(30_000);
    expect(cookies.get("sAccessToken")?.attributes.expires).toBe(cookies.get("sRefreshToken")?.attributes.expires);
  });

  it("creates distinct sessions and tokens for every login of the same user", async () => {
    const { app } = createApp({ store: stores.create() });
    const first = await login(app, "user-1");
    const second = await login(app, "user-1");
    expect(first.handle).not.toBe(second.handle);
    expect(first.access).not.toBe(second.access);
    expect(first.refresh).not.toBe(second.refresh);
  });

  it("rejects, and sets no cookie or header, when the row cannot be written", async () => {
    const counted = countingStore(stores.create());
    const broken = new Proxy(counted.store, {
      get(target, property, receiver) {
        if (property === "createSession") return () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:3306"));
        return Reflect.get(target, property, receiver);
      },
    });
    const { app } = createApp({ store: broken });
    const res = await request(app).post("/login").send({ userId: "user-1" }).expect(503);
    expect(res.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.headers["front-token"]).toBeUndefined();
  });

  it.each([
    ["a number", 42],
    ["an object (would expand into SQL)", { id: 1 }],
    ["an array", ["a"]],
    ["an empty string", ""],
    ["a 256-character string", "u".repeat(256)],
    ["null", null],
  ])("refuses %s as a user id with a TypeError before any store call", async (_label, userId) => {
    const counted = countingStore(stores.create());
    const { app, sessions } = createApp({ store: counted.store });
    app.post("/login-raw", async (req, res) => {
      try {
        await res.createSession(req.body.userId);
        res.json({ ok: true });
      } catch (error) {
        res.status(400).json({ name: (error as Error).name, message: (error as Error).message });
      }
    });
    void sessions;
    const res = await request(app).post("/login-raw").send({ userId }).expect(400);
    expect(res.body.name).toBe("TypeError");
    expect(res.body.message).toMatch(/^latchkey: userId must be a non-empty string of at most 255 characters/);
    expect(counted.calls.filter((call) => call === "createSession")).toEqual([]);
  });

  it.each([
    ["a reserved claim", { sub: "someone-else" }, /reserved claim "sub"/],
    ["an array", ["x"], /must be a plain object/],
    ["more than 2 KB", { blob: "x".repeat(3000) }, /bytes as JSON; the limit is 2048/],
    ["a built-in property name", { toString: "x" }, /may not use the key "toString": it is a built-in property name/],
    ["__proto__", JSON.parse('{"__proto__": {"admin": true}}'), /may not use the key "__proto__"/],
  ])("refuses an access-token payload with %s", async (_label, payload, message) => {
    const { app } = createApp({ store: stores.create() });
    app.post("/login-payload", async (req, res) => {
      try {
        await res.createSession("user-1", { accessTokenPayload: req.body.payload });
        res.json({ ok: true });
      } catch (error) {
        res.status(400).json({ message: (error as Error).message });
      }
    });
    const res = await request(app).post("/login-payload").send({ payload }).expect(400);
    expect(res.body.message).toMatch(message);
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("stores user ids and session data with quotes, NUL bytes and emoji byte-exact", async () => {
    const store = stores.create();
    const { app } = createApp({ store });
    const userId = `o'brien"; DROP TABLE x; -- \u0000 😀`;
    const data = { note: `it's "quoted" \\ and \u0000 nul 😀` };
    const { handle } = await login(app, userId, { data });
    const row = await store.findSession(handle);
    expect(row?.userId).toBe(userId);
    expect(row?.sessionData).toEqual(data);
    const me = await request(app).get("/api/me").set("Cookie", `sAccessToken=${(await login(app, userId)).access}`).expect(200);
    expect(me.body.userId).toBe(userId);
  });

  it("refuses, before writing any row, a session whose access token would be too large for a cookie", async () => {
    const store = stores.create();
    await store.init();
    const { app } = createApp({ store });
    const userId = "\u0001".repeat(255); // escapes to \u0001 in JSON: six bytes each
    const res = await request(app).post("/login").send({ userId, payload: { blob: "x".repeat(1900) } }).expect(400);
    expect(res.body.message).toMatch(/^latchkey: the access token would be \d+ characters; .* the limit is 4096\./);
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(await store.listForUser(userId, Date.now(), { limit: 10 })).toEqual([]);
  });

  it("marks responses that carry tokens Cache-Control: no-store", async () => {
    const { app } = createApp({ store: stores.create() });
    const { res, refresh } = await login(app);
    expect(res.headers["cache-control"]).toBe("no-store");
    const rotated = await request(app).post("/auth/session/refresh").set("Cookie", `sRefreshToken=${refresh}`).expect(200);
    expect(rotated.headers["cache-control"]).toBe("no-store");
  });

  it("#3 access token, front-token and refresh token carry only the documented claims, never session data", async () => {
    const { app } = createApp({ store: stores.create() });
    const { access, refresh, handle, res } = await login(app, "user-1", { payload: { role: "admin" }, data: { secretNote: "server-only" } });
    const claims = decodeJwtPart(access, 1);
    expect(Object.keys(claims).sort()).toEqual(["authTime", "exp", "iat", "iss", "role", "sid", "sub"]);
    expect(decodeJwtPart(access, 0)).toEqual({ alg: "ES256", typ: "at+jwt", kid: expect.any(String) });
    const front = decodeFrontToken(res.headers["front-token"] as string);
    expect(front.up).toEqual(claims);
    for (const text of [access, res.headers["front-token"] as string, JSON.stringify(front), JSON.stringify(claims)]) {
      expect(text).not.toMatch(/secretNote|server-only/);
    }
    // The refresh token is the (non-secret) handle, 128 random bits of lineage and 256 random
    // bits of secret: no user id, no time.
    expect(refresh).toMatch(new RegExp(`^${handle}\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}$`));
  });

  it("#61 cookies planted before login are replaced, never adopted", async () => {
    const { app } = createApp({ store: stores.create() });
    const attacker = await login(app, "attacker");
    const res = await request(app)
      .post("/login")
      .set("Cookie", `${accessCookie("attacker-chosen")}; ${refreshCookie(attacker.refresh)}`)
      .send({ userId: "victim" })
      .expect(200);
    const victim = tokensOf(res);
    expect(victim.access).not.toBe("attacker-chosen");
    expect(victim.refresh).not.toBe(attacker.refresh);
    expect(victim.refresh.split(".")[0]).not.toBe(attacker.handle);
    expect(decodeJwtPart(victim.access, 1).sub).toBe("victim");
    // The attacker's own token still names only the attacker.
    const theirs = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(attacker.refresh)).expect(200));
    expect(decodeJwtPart(theirs.access, 1).sub).toBe("attacker");
  });

  it("#63 refuses a well-formed refresh token for a never-issued handle without creating a row; createSession picks its own handle", async () => {
    const counted = countingStore(stores.create());
    const { app } = createApp({ store: counted.store });
    await login(app);
    const invented = randomUUID();
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(`${invented}.${"A".repeat(22)}.${"A".repeat(43)}`)).expect(401);
    expect(res.body).toEqual(UNAUTHORISED);
    expect(await counted.store.findSession(invented)).toBeNull();

    // A handle cannot even be asked for: the option does not exist, and the call says so.
    app.post("/login-with-handle", async (_req, res) => {
      try {
        await res.createSession("user-1", { handle: "chosen-by-client" } as never);
        res.json({ created: true });
      } catch (error) {
        res.status(400).json({ message: (error as Error).message });
      }
    });
    const chosen = await request(app).post("/login-with-handle").expect(400);
    expect(chosen.body.message).toMatch(/^latchkey: unknown createSession option handle\./);
    const own = (await login(app)).handle;
    expect(own).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("#64 never creates a session implicitly: anonymous traffic to every endpoint writes no session row", async () => {
    const counted = countingStore(stores.create());
    const { app } = createApp({ store: counted.store });
    for (let i = 0; i < 20; i++) {
      await request(app).get("/api/me").expect(401);
      await request(app).get("/api/optional").expect(200);
      await request(app).get("/api/strict").expect(401);
      await request(app).post(REFRESH).expect(401);
      await request(app).post(SIGNOUT).expect(401);
      await request(app).get("/auth/jwt/jwks.json").expect(200);
    }
    expect(counted.calls.filter((call) => SESSION_METHODS.has(call))).toEqual([]);
  });

  it("#88 the stored IP ignores X-Forwarded-For unless the app trusts the proxy, and then takes the nearest hop", async () => {
    const store = stores.create();
    const { app } = createApp({ store });
    const untrusted = await request(app).post("/login").set("X-Forwarded-For", "1.2.3.4").send({ userId: "u" }).expect(200);
    expect((await store.findSession(untrusted.body.handle))?.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    app.set("trust proxy", 1);
    const trusted = await request(app).post("/login").set("X-Forwarded-For", "1.2.3.4, 203.0.113.9").send({ userId: "u" }).expect(200);
    expect((await store.findSession(trusted.body.handle))?.ip).toBe("203.0.113.9");
  });
});
