import { verifySession } from "../lib";
import {
  accessCookie,
  createApp,
  decodeFrontToken,
  decodeJwtPart,
  describeEachStore,
  expectCleared,
  login,
  refreshCookie,
  request,
  tokensOf,
} from "./helpers";

describeEachStore("req.session and the management API", (stores) => {
  function appWithSessionRoutes() {
    const store = stores.create();
    const fixture = createApp({ store });
    const { app } = fixture;
    app.post("/api/payload", verifySession(), async (req, res, next) => {
      try {
        await req.session!.mergeIntoAccessTokenPayload(req.body);
        res.json({ payload: req.session!.accessTokenPayload });
      } catch (error) {
        res.status(error instanceof TypeError ? 400 : 500).json({ message: (error as Error).message });
        void next;
      }
    });
    app.get("/api/data", verifySession(), async (req, res) => res.json(await req.session!.getSessionData()));
    app.put("/api/data", verifySession(), async (req, res) => {
      await req.session!.updateSessionData(req.body);
      res.json({ ok: true });
    });
    app.post("/api/revoke", verifySession(), async (req, res) => {
      await req.session!.revoke();
      res.json({ ok: true });
    });
    return { ...fixture, store };
  }

  it("mergeIntoAccessTokenPayload re-signs the access token on this response with the same expiry", async () => {
    const { app, store } = appWithSessionRoutes();
    const { access, refresh, handle } = await login(app, "user-1", { payload: { role: "member", team: "a" } });
    const res = await request(app)
      .post("/api/payload")
      .set("Cookie", accessCookie(access))
      .send({ role: "admin", team: null })
      .expect(200);
    expect(res.body).toEqual({ payload: { role: "admin" } });
    const next = tokensOf(res).access;
    expect(decodeJwtPart(next, 1)).toMatchObject({ role: "admin", exp: decodeJwtPart(access, 1).exp });
    expect(decodeJwtPart(next, 1)).not.toHaveProperty("team");
    expect(decodeFrontToken(res.headers["front-token"] as string).up.role).toBe("admin");
    expect((await store.findSession(handle))?.accessTokenPayload).toEqual({ role: "admin" });
    // ...and the stored payload survives the next refresh.
    const refreshed = await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(200);
    expect(decodeJwtPart(tokensOf(refreshed).access, 1).role).toBe("admin");
  });

  it("refuses reserved claims in mergeIntoAccessTokenPayload", async () => {
    const { app } = appWithSessionRoutes();
    const { access } = await login(app);
    const res = await request(app).post("/api/payload").set("Cookie", accessCookie(access)).send({ sub: "root" }).expect(400);
    expect(res.body.message).toMatch(/reserved claim "sub"/);
  });

  it("reads and replaces session data", async () => {
    const { app } = appWithSessionRoutes();
    const { access } = await login(app, "user-1", { data: { cart: [1, 2] } });
    expect((await request(app).get("/api/data").set("Cookie", accessCookie(access)).expect(200)).body).toEqual({ cart: [1, 2] });
    await request(app).put("/api/data").set("Cookie", accessCookie(access)).send({ cart: [] }).expect(200);
    expect((await request(app).get("/api/data").set("Cookie", accessCookie(access)).expect(200)).body).toEqual({ cart: [] });
  });

  it("revoke() ends the session and clears the tokens on this response", async () => {
    const { app, events } = appWithSessionRoutes();
    const { access, refresh } = await login(app);
    const res = await request(app).post("/api/revoke").set("Cookie", accessCookie(access)).expect(200);
    expectCleared(res, "sAccessToken", "/");
    expect(res.headers["front-token"]).toBe("remove");
    expect(events.revoked.map((event) => event.reason)).toEqual(["sign-out"]);
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(401);
  });

  it("lists a user's live sessions with device metadata and never a token or hash", async () => {
    const { app, sessions } = appWithSessionRoutes();
    const first = (await request(app).post("/login").set("User-Agent", "Firefox/140").send({ userId: "user-1" })).body.handle;
    const second = await login(app, "user-1");
    await login(app, "user-2");
    const listed = await sessions.listSessions("user-1", { currentHandle: second.handle });
    expect(listed.map((session) => [session.handle, session.current])).toEqual([
      [first, false],
      [second.handle, true],
    ]);
    // Metadata only: no payload and no session data (server-side data stays server-side).
    expect(listed[0]).toEqual({
      handle: first,
      userId: "user-1",
      createdAt: expect.any(Number),
      lastRefreshedAt: expect.any(Number),
      authTime: listed[0]?.createdAt,
      expiresAt: expect.any(Number),
      absoluteExpiresAt: expect.any(Number),
      persistent: true,
      ip: expect.stringMatching(/127\.0\.0\.1/),
      userAgent: "Firefox/140",
      lastIp: null,
      lastUserAgent: null,
      current: false,
    });
    expect(JSON.stringify(listed)).not.toMatch(/TokenHash/);
  });

  it("merges payload by handle for the next refresh, and answers unknown handles without throwing", async () => {
    const { app, sessions } = appWithSessionRoutes();
    const { refresh, handle } = await login(app);
    expect(await sessions.mergeIntoAccessTokenPayload(handle, { plan: "pro" })).toBe(true);
    const res = await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(200);
    expect(decodeJwtPart(tokensOf(res).access, 1).plan).toBe("pro");
    expect(await sessions.mergeIntoAccessTokenPayload("unknown", { plan: "pro" })).toBe(false);
    expect(await sessions.updateSessionData("unknown", {})).toBe(false);
    expect(await sessions.getSessionInformation("unknown")).toBeNull();
    await expect(sessions.mergeIntoAccessTokenPayload(handle, { exp: 1 })).rejects.toThrow(TypeError);
    await expect(sessions.listSessions({ id: 1 } as never)).rejects.toThrow(/userId must be a non-empty string/);
  });

  it("revokeOtherSessions keeps only the current one", async () => {
    const { app, sessions } = appWithSessionRoutes();
    const current = await login(app, "user-1");
    const other = await login(app, "user-1");
    expect(await sessions.revokeOtherSessions(current.handle)).toEqual([other.handle]);
    expect(await sessions.getAllSessionHandlesForUser("user-1")).toEqual([current.handle]);
    // A revoked session cannot end its siblings.
    const third = await login(app, "user-1");
    await sessions.revokeSession(current.handle);
    expect(await sessions.revokeOtherSessions(current.handle)).toEqual([]);
    expect(await sessions.getAllSessionHandlesForUser("user-1")).toEqual([third.handle]);
    await request(app).get("/api/me").set("Cookie", accessCookie(other.access)).expect(401);
  });

  it("shows where a session was last refreshed from, beside where it was created", async () => {
    const { app, sessions } = appWithSessionRoutes();
    const created = await request(app).post("/login").set("User-Agent", "Firefox/140 (laptop)").send({ userId: "user-1" }).expect(200);
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(tokensOf(created).refresh)).set("User-Agent", "curl/8.5").expect(200);
    const [listed] = await sessions.listSessions("user-1");
    expect(listed).toMatchObject({ userAgent: "Firefox/140 (laptop)", lastUserAgent: "curl/8.5", ip: expect.any(String), lastIp: expect.any(String) });
    expect(await sessions.getSessionInformation(created.body.handle)).toMatchObject({ userAgent: "Firefox/140 (laptop)", lastUserAgent: "curl/8.5" });
  });

  it("pages a user's sessions with limit and nextCursor, without gaps or repeats", async () => {
    const { app, sessions, store } = appWithSessionRoutes();
    const handles: string[] = [];
    for (let i = 0; i < 25; i++) handles.push((await login(app, "many")).handle);
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await sessions.listSessions("many", { limit: 10, ...(cursor ? { cursor } : {}) });
      sizes.push(page.length);
      seen.push(...page.map((session) => session.handle));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(sizes).toEqual([10, 10, 5]);
    expect(seen).toEqual((await store.listForUser("many", Date.now(), { limit: 100 })).map((row) => row.handle));
    expect(new Set(seen)).toEqual(new Set(handles));
    expect((await sessions.listSessions("many")).nextCursor).toBeNull();
    await expect(sessions.listSessions("many", { limit: 0 })).rejects.toThrow("latchkey: listSessions limit must be a whole number from 1 to 1000 (got 0).");
    await expect(sessions.listSessions("many", { cursor: "not-a-cursor" })).rejects.toThrow("latchkey: listSessions cursor must be the nextCursor of a previous page.");
  });

  it("revokes the other sessions of a user with many, in batches, and lists only metadata", async () => {
    const { app, sessions, store } = appWithSessionRoutes();
    const current = await login(app, "crowd");
    const now = Date.now();
    for (let i = 0; i < 1200; i += 200) {
      await Promise.all(
        Array.from({ length: 200 }, (_, j) =>
          store.createSession({
            handle: `00000000-0000-4000-8000-${String(i + j).padStart(12, "0")}`,
            userId: "crowd",
            refreshTokenHash: Buffer.alloc(32, 5),
            prevRefreshTokenHash: null,
            lineageHash: null,
            rotatedAt: null,
            undelivered: false,
            accessTokenPayload: { role: "x" },
            sessionData: { big: "y".repeat(2000) },
            createdAt: now - 10_000,
            lastRefreshedAt: now - 10_000,
            authTime: now - 10_000,
            expiresAt: now + 3_600_000,
            absoluteExpiresAt: now + 3_600_000,
            idleTtl: null,
            persistent: true,
            revokedAt: null,
            ip: null,
            userAgent: null,
            lastIp: null,
            lastUserAgent: null,
          }),
        ),
      );
    }
    const listed = await sessions.listSessions("crowd", { limit: 5 });
    expect(listed.every((session) => !("sessionData" in session) && !("accessTokenPayload" in session))).toBe(true);
    const revoked = await sessions.revokeOtherSessions(current.handle);
    expect(revoked).toHaveLength(1200);
    expect(new Set(revoked).has(current.handle)).toBe(false);
    expect(await sessions.getAllSessionHandlesForUser("crowd")).toEqual([current.handle]);
  }, 30_000);

  it("refuses a payload merge that would make the access token too large, and stores nothing", async () => {
    const { app, sessions, store } = appWithSessionRoutes();
    const { handle, refresh } = await login(app, "\u0001".repeat(255));
    await expect(sessions.mergeIntoAccessTokenPayload(handle, { blob: "x".repeat(1900) })).rejects.toThrow(/the access token would be \d+ characters/);
    expect((await store.findSession(handle))?.accessTokenPayload).toEqual({});
    await expect(sessions.mergeIntoAccessTokenPayload(handle, { toString: "x" })).rejects.toThrow(/built-in property name/);
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(200);
  });
});
