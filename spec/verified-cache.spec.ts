import { VerifiedTokenCache } from "../lib/verified-cache";
import { accessCookie, createApp, describeEachStore, fakeClock, login, request } from "./helpers";

describeEachStore("the verified-token cache", (stores) => {
  it("still ends a token at its exp after it was cached", async () => {
    const clock = fakeClock();
    const { app } = createApp({ store: stores.create(), clock: clock.now });
    const { access } = await login(app);
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    clock.advance(15 * 60_000);
    const res = await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(401);
    expect(res.body).toEqual({ message: "try refresh token" });
  });

  it("still refuses a cached token once its session is revoked", async () => {
    const { app, sessions } = createApp({ store: stores.create() });
    const { access, handle } = await login(app);
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    await sessions.revokeSession(handle);
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(401);
  });

  it("hands routes a read-only payload, so no request can change what the next one sees", async () => {
    const { app } = createApp({ store: stores.create() });
    const { verifySession } = await import("../lib");
    app.get("/api/mutate", verifySession(), (req, res) => {
      const payload = req.session!.accessTokenPayload as { team?: { name: string } };
      let threw = false;
      try {
        (payload.team as { name: string }).name = "mallory";
      } catch {
        threw = true;
      }
      res.json({ threw, frozen: Object.isFrozen(payload), name: payload.team?.name });
    });
    const { access } = await login(app, "u", { payload: { team: { name: "blue" } } });
    const first = await request(app).get("/api/mutate").set("Cookie", accessCookie(access)).expect(200);
    expect(first.body).toEqual({ threw: true, frozen: true, name: "blue" });
    const second = await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    expect(second.body.payload).toEqual({ team: { name: "blue" } });
  });

  it("is bounded, and can be turned off", () => {
    const cache = new VerifiedTokenCache(2);
    const claims = (n: number) => ({ sub: "u", sid: `s${n}`, iat: 0, exp: 10, iss: "latchkey" });
    cache.set("a", claims(1));
    cache.set("b", claims(2));
    cache.set("c", claims(3));
    expect([cache.size, cache.get("a", 0), cache.get("c", 0)?.sid]).toEqual([2, undefined, "s3"]);
    expect(cache.get("c", 10_000)).toBeUndefined();
    const off = new VerifiedTokenCache(0);
    off.set("a", claims(1));
    expect(off.size).toBe(0);
    expect(() => createApp({ verifyCacheSize: -1 })).toThrow(/option verifyCacheSize must be a whole number/);
  });
});
