import {
  accessCookie,
  countingStore,
  createApp,
  describeEachStore,
  expectCleared,
  fakeClock,
  login,
  refreshCookie,
  request,
} from "./helpers";

const SIGNOUT = "/auth/signout";
const REFRESH = "/auth/session/refresh";

describeEachStore("POST /auth/signout", (stores) => {
  it("revokes the session, clears both cookies as they were set, and answers {status: OK}", async () => {
    const store = stores.create();
    const { app, events } = createApp({ store });
    const { access, refresh, handle } = await login(app, "user-1");

    const res = await request(app).post(SIGNOUT).set("Cookie", accessCookie(access)).expect(200);

    expect(res.body).toEqual({ status: "OK" });
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["front-token"]).toBe("remove");
    expect(res.headers["access-control-expose-headers"]).toBe("front-token");
    expectCleared(res, "sAccessToken", "/");
    expectCleared(res, "sRefreshToken", REFRESH);
    expect((res.headers["set-cookie"] as unknown as string[]).every((line) => /SameSite=Lax/.test(line))).toBe(true);
    expect((await store.findSession(handle))?.revokedAt).toEqual(expect.any(Number));
    expect(events.revoked).toEqual([expect.objectContaining({ handle, userId: "user-1", reason: "sign-out" })]);

    const me = await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(401);
    expect(me.body).toEqual({ message: "unauthorised" });
    const again = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(401);
    expect(again.body).toEqual({ message: "unauthorised" });
  });

  it("answers 401 unauthorised without a session and keeps whatever cookies there are", async () => {
    const { app } = createApp({ store: stores.create() });
    const res = await request(app).post(SIGNOUT).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("answers 401 try refresh token for an expired access token, so the SDK refreshes and retries", async () => {
    const clock = fakeClock();
    const { app } = createApp({ store: stores.create(), clock: clock.now });
    const { access } = await login(app);
    clock.advance(16 * 60_000);
    const res = await request(app).post(SIGNOUT).set("Cookie", accessCookie(access)).expect(401);
    expect(res.body).toEqual({ message: "try refresh token" });
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("only ends the signed-out session, not the user's others", async () => {
    const { app, sessions } = createApp({ store: stores.create() });
    const laptop = await login(app, "user-1");
    const phone = await login(app, "user-1");
    await request(app).post(SIGNOUT).set("Cookie", accessCookie(laptop.access)).expect(200);
    await request(app).get("/api/me").set("Cookie", accessCookie(phone.access)).expect(200);
    expect(await sessions.getAllSessionHandlesForUser("user-1")).toEqual([phone.handle]);
  });

  it("#66 sign-out of a session whose row is gone still answers OK and clears the tokens", async () => {
    let gone = false;
    const store = new Proxy(countingStore(stores.create()).store, {
      get: (target, property, receiver) => (gone && property === "updateSession" ? async () => null : Reflect.get(target, property, receiver)),
    });
    const { app } = createApp({ store });
    const { access } = await login(app);
    gone = true;
    const res = await request(app).post(SIGNOUT).set("Cookie", accessCookie(access)).expect(200);
    expect(res.body).toEqual({ status: "OK" });
    expect(res.headers["front-token"]).toBe("remove");
    expectCleared(res, "sAccessToken", "/");
    expectCleared(res, "sRefreshToken", REFRESH);
  });
});
