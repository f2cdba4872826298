import { cookieHeader, cookieTokens, exposed, frontOf, headerTokens, login, FOREIGN_ORIGIN, UNAUTHORISED, type Fixtures } from "../support";

const HEADER_MODE = { "st-auth-mode": "header" };

/**
 * Header mode (DESIGN §2, §6.1): `st-auth-mode: header` at login sends the tokens in
 * `st-access-token` / `st-refresh-token`; they come back as `Authorization: Bearer`, on
 * guarded routes and on refresh. New tokens travel the way the presented one came.
 */
export function headerModeConformance(fixtures: Fixtures): void {
  describe("header mode", () => {
    it("a login with st-auth-mode: header sends st-access-token / st-refresh-token, exposed, and sets no cookie", async () => {
      const app = await fixtures.start();
      const { res, access, refresh, handle } = await login(app, "user-1", {}, HEADER_MODE);
      expect(access.split(".")).toHaveLength(3);
      expect(refresh.startsWith(`${handle}.`)).toBe(true);
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(exposed(res)).toEqual(expect.arrayContaining(["front-token", "st-access-token", "st-refresh-token"]));
      expect(frontOf(res).uid).toBe("user-1");
      expect(res.headers["cache-control"]).toBe("no-store");
    });

    it("Authorization: Bearer opens a guarded route, and skips the CSRF check (a bearer token is no ambient credential)", async () => {
      const app = await fixtures.start();
      const { access, handle } = await login(app, "user-1", {}, HEADER_MODE);
      const me = await app.http().get("/api/me").set("Authorization", `Bearer ${access}`);
      expect([me.status, me.body]).toEqual([200, { userId: "user-1", handle }]);
      const post = await app.http().post("/api/me").set("Authorization", `Bearer ${access}`).set("Origin", FOREIGN_ORIGIN);
      expect([post.status, post.body]).toEqual([200, { userId: "user-1" }]);
      const wrong = await app.http().get("/api/me").set("Authorization", `Bearer ${access}x`);
      expect([wrong.status, wrong.body]).toEqual([401, UNAUTHORISED]);
    });

    it("refresh with Authorization: Bearer <refresh token> answers 200 {} with new token headers and no cookie", async () => {
      const app = await fixtures.start();
      const before = await login(app, "user-1", {}, HEADER_MODE);
      const res = await app.http().post(app.paths.refresh).set("Authorization", `Bearer ${before.refresh}`).set("rid", "anti-csrf");
      expect([res.status, res.body]).toEqual([200, {}]);
      expect(res.headers["set-cookie"]).toBeUndefined();
      const next = headerTokens(res);
      expect(next.access).not.toBe(before.access);
      expect(next.refresh).not.toBe(before.refresh);
      expect(next.refresh.startsWith(`${before.handle}.`)).toBe(true);
      expect(exposed(res)).toEqual(expect.arrayContaining(["front-token", "st-access-token", "st-refresh-token"]));
      const me = await app.http().get("/api/me").set("Authorization", `Bearer ${next.access}`);
      expect(me.status).toBe(200);
    });

    it("sign-out in header mode answers 200 with empty token headers and front-token: remove", async () => {
      const app = await fixtures.start();
      const { access, refresh } = await login(app, "user-1", {}, HEADER_MODE);
      const res = await app.http().post(app.paths.signout).set("Authorization", `Bearer ${access}`);
      expect([res.status, res.body]).toEqual([200, { status: "OK" }]);
      expect([res.headers["st-access-token"], res.headers["st-refresh-token"], res.headers["front-token"]]).toEqual(["", "", "remove"]);
      expect(res.headers["set-cookie"]).toBeUndefined();
      const refreshed = await app.http().post(app.paths.refresh).set("Authorization", `Bearer ${refresh}`);
      expect([refreshed.status, refreshed.body]).toEqual([401, UNAUTHORISED]);
    });

    it("a cookie-authenticated refresh gets cookies, never token headers, whatever st-auth-mode says", async () => {
      const app = await fixtures.start();
      const { refresh } = await login(app, "user-1");
      const res = await app.http().post(app.paths.refresh).set(HEADER_MODE).set("Cookie", cookieHeader(app, { refresh }));
      expect([res.status, res.body]).toEqual([200, {}]);
      expect([res.headers["st-access-token"], res.headers["st-refresh-token"]]).toEqual([undefined, undefined]);
      expect(cookieTokens(app, res).refresh.length).toBeGreaterThan(0);
    });
  });
}
