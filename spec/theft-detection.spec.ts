import {
  accessCookie,
  createApp,
  describeEachStore,
  expectCleared,
  fakeClock,
  login,
  refreshCookie,
  request,
  tokensOf,
} from "./helpers";

const REFRESH = "/auth/session/refresh";

describeEachStore("refresh-token theft detection", (stores) => {
  it("revokes the whole session when a rotated token is reused after the grace window", async () => {
    const clock = fakeClock();
    const store = stores.create();
    const { app, events } = createApp({ store, clock: clock.now, refreshGrace: "10s" });
    const stolen = await login(app, "victim");
    const rotated = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(stolen.refresh)).expect(200));

    clock.advance(10_001);
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(stolen.refresh)).expect(401);

    expect(res.body).toEqual({ message: "token theft detected" });
    expect(res.headers["front-token"]).toBe("remove");
    expectCleared(res, "sAccessToken", "/");
    expectCleared(res, "sRefreshToken", REFRESH);
    expect(events.theft).toEqual([{ handle: stolen.handle, userId: "victim", ip: expect.any(String), userAgent: null }]);
    expect(events.revoked).toEqual([expect.objectContaining({ handle: stolen.handle, reason: "theft" })]);
    expect((await store.findSession(stolen.handle))?.revokedAt).toBe(clock.now());

    // The newest tokens die with the session: the refresh token at once everywhere,
    // the access token at once on this instance.
    const refreshed = await request(app).post(REFRESH).set("Cookie", refreshCookie(rotated.refresh)).expect(401);
    expect(refreshed.body).toEqual({ message: "unauthorised" });
    const me = await request(app).get("/api/me").set("Cookie", accessCookie(rotated.access)).expect(401);
    expect(me.body).toEqual({ message: "unauthorised" });
  });

  it("detects the thief's reuse when the thief refreshed first", async () => {
    const clock = fakeClock();
    const { app, events } = createApp({ store: stores.create(), clock: clock.now });
    const { refresh } = await login(app);
    await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200); // the thief
    clock.advance(60_000);
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(401); // the victim
    expect(res.body).toEqual({ message: "token theft detected" });
    expect(events.theft).toHaveLength(1);
  });

  it("refuses a token two generations old as unauthorised: without the lineage it is indistinguishable from a guess", async () => {
    const clock = fakeClock();
    const { app, events } = createApp({ store: stores.create(), clock: clock.now, refreshGrace: "10s" });
    const t0 = (await login(app)).refresh;
    const t1 = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(t0)).expect(200)).refresh;
    clock.advance(1000);
    const t2 = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(t1)).expect(200)).refresh;
    clock.advance(1000);
    // t1 is the previous token, still inside the window: it earns t2 again.
    expect(tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(t1)).expect(200)).refresh).toBe(t2);
    const stale = await request(app).post(REFRESH).set("Cookie", refreshCookie(t0)).expect(401);
    expect(stale.body).toEqual({ message: "unauthorised" });
    expect(events.theft).toEqual([]);
    await request(app).post(REFRESH).set("Cookie", refreshCookie(t2)).expect(200);
  });

  it("keeps a hook that throws or never settles from breaking the response", async () => {
    const clock = fakeClock();
    const { app } = createApp({
      store: stores.create(),
      clock: clock.now,
      onTheftDetected: () => {
        throw new Error("audit sink down");
      },
      onRevoked: () => new Promise(() => {}),
    });
    const { refresh } = await login(app);
    await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200);
    clock.advance(60_000);
    const res = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(401);
    expect(res.body).toEqual({ message: "token theft detected" });
  });
});
