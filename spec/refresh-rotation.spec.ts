import {
  accessCookie,
  createApp,
  decodeFrontToken,
  describeEachStore,
  expectCleared,
  expectCookie,
  fakeClock,
  login,
  refreshCookie,
  request,
  tokensOf,
} from "./helpers";

const REFRESH = "/auth/session/refresh";
const DAY = 86_400_000;

describeEachStore("POST /auth/session/refresh", (stores) => {
  it("rotates the refresh token and returns new cookies and front-token", async () => {
    const store = stores.create();
    const { app, events } = createApp({ store });
    const first = await login(app, "user-1", { payload: { role: "admin" } });

    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(first.refresh)).expect(200);

    expect(res.body).toEqual({});
    const next = tokensOf(res);
    expect(next.refresh).not.toBe(first.refresh);
    expect(next.refresh.startsWith(`${first.handle}.`)).toBe(true);
    expectCookie(res, "sAccessToken", { path: "/", httponly: true, samesite: "Lax" });
    expectCookie(res, "sRefreshToken", { path: REFRESH, httponly: true, samesite: "Lax" });
    expect(res.headers["access-control-expose-headers"]).toBe("front-token");
    const front = decodeFrontToken(res.headers["front-token"] as string);
    expect(front).toMatchObject({ uid: "user-1", up: { role: "admin", sid: first.handle } });

    const me = await request(app).get("/api/me").set("Cookie", accessCookie(next.access)).expect(200);
    expect(me.body).toMatchObject({ userId: "user-1", handle: first.handle, payload: { role: "admin" } });
    expect(events.refreshed).toEqual([expect.objectContaining({ handle: first.handle, userId: "user-1" })]);

    const row = await store.findSession(first.handle);
    expect(row?.rotatedAt).toEqual(expect.any(Number));
    expect(row?.prevRefreshTokenHash).not.toBeNull();
  });

  it("chains: each new refresh token rotates again", async () => {
    const { app } = createApp({ store: stores.create() });
    let { refresh } = await login(app);
    const seen = new Set([refresh]);
    for (let i = 0; i < 5; i++) {
      const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200);
      refresh = tokensOf(res).refresh;
      expect(seen.has(refresh)).toBe(false);
      seen.add(refresh);
    }
  });

  it("slides the idle expiry on each refresh but never past the absolute lifetime", async () => {
    const clock = fakeClock();
    const store = stores.create();
    const { app } = createApp({ store, clock: clock.now, refreshTokenTtl: "2d", absoluteTtl: "3d" });
    const start = clock.now();
    let { refresh, handle } = await login(app);
    expect((await store.findSession(handle))?.expiresAt).toBe(start + 2 * DAY);

    clock.advance(DAY / 2);
    refresh = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200)).refresh;
    expect((await store.findSession(handle))?.expiresAt).toBe(start + DAY / 2 + 2 * DAY);

    clock.advance(DAY + DAY / 4);
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200);
    refresh = tokensOf(res).refresh;
    const row = await store.findSession(handle);
    expect(row?.expiresAt).toBe(start + 3 * DAY);
    expect(row?.absoluteExpiresAt).toBe(start + 3 * DAY);
    expect(new Date(expectCookie(res, "sRefreshToken", {}).attributes.expires as string).getTime()).toBe(
      Math.floor((start + 3 * DAY) / 1000) * 1000,
    );

    clock.advance(1.25 * DAY);
    const late = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(401);
    expect(late.body).toEqual({ message: "unauthorised" });
  });

  it("ends an idle session after refreshTokenTtl without a refresh", async () => {
    const clock = fakeClock();
    const { app } = createApp({ store: stores.create(), clock: clock.now, refreshTokenTtl: "1d" });
    const { refresh } = await login(app);
    clock.advance(DAY + 1);
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    expectCleared(res, "sRefreshToken", REFRESH);
  });

  it("gives the same successor again for the previous token inside the grace window", async () => {
    const clock = fakeClock();
    const { app, events } = createApp({ store: stores.create(), clock: clock.now, refreshGrace: "10s" });
    const { refresh } = await login(app);
    const first = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200));
    clock.advance(9_000);
    const again = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200));
    expect(again.refresh).toBe(first.refresh);
    expect(events.theft).toEqual([]);
    await request(app).post(REFRESH).set("Cookie", refreshCookie(first.refresh)).expect(200);
  });

  it("answers 20 concurrent refreshes with one token with the identical successor, and the session lives on", async () => {
    const { app, events } = createApp({ store: stores.create() });
    const { refresh } = await login(app);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => request(app).post(REFRESH).set("Cookie", refreshCookie(refresh))),
    );
    expect(responses.map((res) => res.status)).toEqual(Array(20).fill(200));
    const successors = new Set(responses.map((res) => tokensOf(res).refresh));
    expect(successors.size).toBe(1);
    expect(events.theft).toEqual([]);
    const [successor] = [...successors] as [string];
    const next = await request(app).post(REFRESH).set("Cookie", refreshCookie(successor)).expect(200);
    await request(app).get("/api/me").set("Cookie", accessCookie(tokensOf(next).access)).expect(200);
  });

  it.each([
    ["only an access cookie (a stale one after the refresh cookie went)", (t: { access: string }) => accessCookie(t.access)],
    ["garbage", () => refreshCookie("not-a-token")],
    ["an unknown session", () => refreshCookie(`00000000-0000-4000-8000-000000000000.${"A".repeat(22)}.${"A".repeat(43)}`)],
    ["an unknown session in the 0.1 shape", () => refreshCookie(`00000000-0000-4000-8000-000000000000.${"A".repeat(43)}`)],
    ["an access token", (t: { access: string }) => refreshCookie(t.access)],
    ["a j: JSON cookie", () => 'sRefreshToken=j:{"a":1}'],
  ])("answers %s with 401 unauthorised, clears the tokens and sends front-token: remove", async (_label, cookie) => {
    const { app } = createApp({ store: stores.create() });
    const tokens = await login(app);
    const res = await request(app).post(REFRESH).set("Cookie", cookie(tokens)).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    expect(res.headers["front-token"]).toBe("remove");
    expectCleared(res, "sAccessToken", "/");
    expectCleared(res, "sRefreshToken", REFRESH);
  });

  it.each([
    ["no cookie at all (a cross-site form posting here: logout CSRF)", {}],
    ["only cookies of other names", { Cookie: "theme=dark; sFrontToken=abc" }],
  ])("answers a request with %s with 401 and clears nothing: no Set-Cookie, no front-token", async (_label, headers) => {
    const { app } = createApp({ store: stores.create() });
    await login(app);
    const res = await request(app).post(REFRESH).set(headers).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.headers["front-token"]).toBeUndefined();
  });

  it("refuses a guessed secret for a real handle without revoking the victim's session", async () => {
    const { app, events } = createApp({ store: stores.create() });
    const victim = await login(app);
    const guess = `${victim.handle}.${"C".repeat(22)}.${"B".repeat(43)}`;
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(guess)).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    expect(events.theft).toEqual([]);
    await request(app).post(REFRESH).set("Cookie", refreshCookie(victim.refresh)).expect(200);
  });

  it("refuses a revoked session's refresh token", async () => {
    const { app, sessions } = createApp({ store: stores.create() });
    const { refresh, handle } = await login(app);
    expect(await sessions.revokeSession(handle)).toBe(true);
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
  });

  it("lets two instances on one store refresh and verify each other's sessions", async () => {
    const [storeA, storeB] = stores.pair();
    const a = createApp({ store: storeA });
    const b = createApp({ store: storeB });
    const { refresh } = await login(a.app);
    const rotated = tokensOf(await request(b.app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200));
    await request(a.app).get("/api/me").set("Cookie", accessCookie(rotated.access)).expect(200);
    await request(a.app).post(REFRESH).set("Cookie", refreshCookie(rotated.refresh)).expect(200);
  });

  it("ignores rid and fdi-version header values", async () => {
    const { app } = createApp({ store: stores.create() });
    const { refresh } = await login(app);
    await request(app)
      .post(REFRESH)
      .set("Cookie", refreshCookie(refresh))
      .set("rid", "something-else")
      .set("fdi-version", "99.0")
      .expect(200);
  });

  it("never issues an access token that outlives the absolute lifetime", async () => {
    const clock = fakeClock();
    const store = stores.create();
    const { app } = createApp({ store, clock: clock.now, accessTokenTtl: "15m", refreshTokenTtl: "30m", absoluteTtl: "1h", keyRotationInterval: "1h" });
    const start = clock.now();
    let { refresh } = await login(app);
    clock.advance(25 * 60_000);
    refresh = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200)).refresh;
    clock.advance(25 * 60_000);
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200);
    expect(decodeFrontToken(res.headers["front-token"] as string).ate).toBe(start + 60 * 60_000);
    clock.advance(10 * 60_000 + 1000);
    const late = await request(app).get("/api/me").set("Cookie", accessCookie(tokensOf(res).access)).expect(401);
    expect(late.body).toEqual({ message: "try refresh token" });
  });
});
