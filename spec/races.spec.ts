import { accessCookie, createApp, describeEachStore, login, refreshCookie, request, tokensOf } from "./helpers";

const REFRESH = "/auth/session/refresh";

describeEachStore("races", (stores) => {
  it("200 concurrent logins create 200 distinct rows and handles", async () => {
    const store = stores.create();
    const { app } = createApp({ store });
    await login(app, "warm-up");
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => request(app).post("/login").send({ userId: `user-${i % 7}` })));
    expect(responses.map((res) => res.status)).toEqual(Array(200).fill(200));
    const handles = new Set(responses.map((res) => res.body.handle as string));
    expect(handles.size).toBe(200);
    let rows = 0;
    for (let i = 0; i < 7; i++) rows += (await store.listForUser(`user-${i}`, Date.now(), { limit: 1000 })).length;
    expect(rows).toBe(200);
  });

  it("50 concurrent refreshes with one token yield exactly one successor and a usable session", async () => {
    const store = stores.create();
    const { app, events } = createApp({ store });
    const { refresh, handle } = await login(app);
    const responses = await Promise.all(Array.from({ length: 50 }, () => request(app).post(REFRESH).set("Cookie", refreshCookie(refresh))));
    expect(responses.map((res) => res.status)).toEqual(Array(50).fill(200));
    const successors = new Set(responses.map((res) => tokensOf(res).refresh));
    expect(successors.size).toBe(1);
    expect(events.theft).toEqual([]);
    expect(events.refreshed.filter((event) => event.handle === handle).length).toBe(50);
    await request(app).post(REFRESH).set("Cookie", refreshCookie([...successors][0] as string)).expect(200);
  });

  it("a refresh racing sign-out never resurrects the session", async () => {
    for (let round = 0; round < 5; round++) {
      const store = stores.create();
      const { app } = createApp({ store });
      const { access, refresh, handle } = await login(app);
      const [refreshed] = await Promise.all([
        request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)),
        request(app).post("/auth/signout").set("Cookie", accessCookie(access)).expect(200),
      ]);
      expect((await store.findSession(handle))?.revokedAt).toEqual(expect.any(Number));
      if (refreshed.status === 200) {
        // The refresh won the lock; its tokens must die with the sign-out that followed.
        const next = tokensOf(refreshed);
        await request(app).post(REFRESH).set("Cookie", refreshCookie(next.refresh)).expect(401);
        await request(app).get("/api/me").set("Cookie", accessCookie(next.access)).expect(401);
      } else {
        expect(refreshed.status).toBe(401);
      }
    }
  });

  it("a refresh racing revokeAllSessionsForUser ends revoked", async () => {
    const store = stores.create();
    const { app, sessions } = createApp({ store });
    const tokens = await Promise.all(Array.from({ length: 5 }, () => login(app, "victim")));
    await Promise.all([
      ...tokens.map((t) => request(app).post(REFRESH).set("Cookie", refreshCookie(t.refresh))),
      sessions.revokeAllSessionsForUser("victim"),
    ]);
    expect(await sessions.listSessions("victim")).toEqual([]);
    for (const t of tokens) expect((await store.findSession(t.handle))?.revokedAt).toEqual(expect.any(Number));
  });

  it("two instances refreshing the same session stay consistent", async () => {
    const [storeA, storeB] = stores.pair();
    const a = createApp({ store: storeA });
    const b = createApp({ store: storeB });
    const { refresh } = await login(a.app);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => request((i % 2 ? a : b).app).post(REFRESH).set("Cookie", refreshCookie(refresh))),
    );
    expect(responses.map((res) => res.status)).toEqual(Array(20).fill(200));
    expect(new Set(responses.map((res) => tokensOf(res).refresh)).size).toBe(1);
    expect([...a.events.theft, ...b.events.theft]).toEqual([]);
  });
});
