import { cookieHeader, cookieTokens, expectNoCookies, login, FOREIGN_ORIGIN, TRY_REFRESH, UNAUTHORISED, type Fixtures } from "../support";

const TRUSTED = "http://app.example";

/**
 * CSRF (DESIGN §2, §6.1): a cookie-authenticated unsafe request from a foreign `Origin` is
 * refused as the SDK expects (401 try refresh token), a cross-origin cookie-mode login is
 * refused with 403 `CROSS_ORIGIN_REQUEST`, and `trustedOrigins` lets a known frontend in.
 */
export function csrfConformance(fixtures: Fixtures): void {
  describe("CSRF", () => {
    it("a cookie-authenticated POST with a foreign Origin answers 401 try refresh token; its own origin passes", async () => {
      const app = await fixtures.start();
      const { access } = await login(app, "user-1");
      const forged = await app.http().post("/api/me").set("Origin", FOREIGN_ORIGIN).set("Cookie", cookieHeader(app, { access }));
      expect([forged.status, forged.body]).toEqual([401, TRY_REFRESH]);
      expectNoCookies(forged);
      const own = await app.http().post("/api/me").set("Origin", app.url).set("Cookie", cookieHeader(app, { access }));
      expect([own.status, own.body]).toEqual([200, { userId: "user-1" }]);
      // A safe method is not checked.
      const read = await app.http().get("/api/me").set("Origin", FOREIGN_ORIGIN).set("Cookie", cookieHeader(app, { access }));
      expect(read.status).toBe(200);
    });

    it("a cross-origin cookie-mode login answers 403 CROSS_ORIGIN_REQUEST and creates nothing", async () => {
      const app = await fixtures.start();
      const res = await app.http().post("/login").set("Origin", FOREIGN_ORIGIN).send({ userId: "victim" });
      expect([res.status, res.body]).toEqual([403, { message: "cross-origin request refused", code: "CROSS_ORIGIN_REQUEST" }]);
      expectNoCookies(res);
      expect(res.headers["front-token"]).toBeUndefined();
      expect(app.events.created).toEqual([]);
      expect(await app.sessions.getAllSessionHandlesForUser("victim")).toEqual([]);
    });

    it("a refresh with a foreign Origin answers 401 unauthorised and clears nothing (the forged response signs no one out)", async () => {
      const app = await fixtures.start();
      const { refresh } = await login(app, "user-1");
      const forged = await app.http().post(app.paths.refresh).set("Origin", FOREIGN_ORIGIN).set("Cookie", cookieHeader(app, { refresh }));
      expect([forged.status, forged.body]).toEqual([401, UNAUTHORISED]);
      expectNoCookies(forged);
      const honest = await app.http().post(app.paths.refresh).set("Origin", app.url).set("Cookie", cookieHeader(app, { refresh }));
      expect(honest.status).toBe(200);
    });

    it("a sign-out with a foreign Origin is refused and the session lives on", async () => {
      const app = await fixtures.start();
      const { access } = await login(app, "user-1");
      const forged = await app.http().post(app.paths.signout).set("Origin", FOREIGN_ORIGIN).set("Cookie", cookieHeader(app, { access }));
      expect([forged.status, forged.body]).toEqual([401, TRY_REFRESH]);
      expectNoCookies(forged);
      const strict = await app.http().get("/api/strict").set("Cookie", cookieHeader(app, { access }));
      expect(strict.status).toBe(200);
    });

    it("an origin in trustedOrigins may log in and send unsafe requests; others still may not", async () => {
      const app = await fixtures.start({ trustedOrigins: [TRUSTED] });
      const res = await app.http().post("/login").set("Origin", TRUSTED).send({ userId: "user-1" });
      expect(res.status).toBe(200);
      const { access } = cookieTokens(app, res);
      const post = await app.http().post("/api/me").set("Origin", TRUSTED).set("Cookie", cookieHeader(app, { access }));
      expect([post.status, post.body]).toEqual([200, { userId: "user-1" }]);
      const foreign = await app.http().post("/api/me").set("Origin", FOREIGN_ORIGIN).set("Cookie", cookieHeader(app, { access }));
      expect([foreign.status, foreign.body]).toEqual([401, TRY_REFRESH]);
    });
  });
}
