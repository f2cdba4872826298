import {
  attributesOf,
  cookieHeader,
  cookieOf,
  decodeJwtPart,
  expiresOf,
  exposed,
  frontOf,
  login,
  DAY,
  MINUTE,
  SECOND,
  TRY_REFRESH,
  UNAUTHORISED,
  type Fixtures,
} from "../support";

/**
 * The wire check against the SuperTokens frontend protocol (reference/frontend-sdk-protocol.md
 * A9, DESIGN §2), steps 1–6: what a login sets, and what a guarded route answers.
 */
export function wireLoginConformance(fixtures: Fixtures): void {
  describe("wire: login and guarded routes", () => {
    it("wire 1: login answers 200 and sets the HttpOnly access cookie sAccessToken on Path=/, SameSite=Lax, expiring with the session", async () => {
      const app = await fixtures.start();
      const t0 = app.clock.now();
      const { res, access } = await login(app, "user-1");
      const cookie = cookieOf(res, "sAccessToken");
      expect(attributesOf(cookie)).toEqual({ path: "/", httponly: true, samesite: "Lax" });
      expect(expiresOf(cookie)).toBe(t0 + 30 * DAY);
      expect(decodeJwtPart(access, 1)).toMatchObject({ sub: "user-1", sid: res.body.handle });
    });

    it("wire 2: login sets the HttpOnly refresh cookie sRefreshToken on {apiBasePath}/session/refresh only, and nothing else", async () => {
      const app = await fixtures.start();
      const t0 = app.clock.now();
      const { res, refresh, handle } = await login(app, "user-1");
      const cookie = cookieOf(res, "sRefreshToken");
      expect(attributesOf(cookie)).toEqual({ path: `${fixtures.driver.apiBasePath}/session/refresh`, httponly: true, samesite: "Lax" });
      expect(expiresOf(cookie)).toBe(t0 + 30 * DAY);
      expect(refresh.startsWith(`${handle}.`)).toBe(true);
      expect((res.headers["set-cookie"] as unknown as string[]).map((line) => line.split("=")[0]).sort()).toEqual(["sAccessToken", "sRefreshToken"]);
    });

    it("wire 3: login sends front-token {uid, ate = access expiry in ms, up = the token's payload}, exposed to CORS, with Cache-Control: no-store", async () => {
      const app = await fixtures.start();
      const t0 = app.clock.now();
      const { res, access } = await login(app, "user-1", { accessTokenPayload: { plan: "pro" } });
      const payload = decodeJwtPart(access, 1);
      expect(frontOf(res)).toEqual({ uid: "user-1", ate: t0 + 15 * MINUTE, up: payload });
      expect(payload).toMatchObject({ plan: "pro", exp: (t0 + 15 * MINUTE) / SECOND });
      expect(exposed(res)).toContain("front-token");
      expect(res.headers["cache-control"]).toBe("no-store");
      // Cookie mode: the tokens are never in a header or the body.
      expect([res.headers["st-access-token"], res.headers["st-refresh-token"]]).toEqual([undefined, undefined]);
      expect(JSON.stringify(res.body)).not.toContain(access);
    });

    it("wire 4: a guarded GET with the access cookie answers 200 and gives the route the session", async () => {
      const app = await fixtures.start();
      const { access, handle } = await login(app, "user-1");
      const res = await app.http().get("/api/me").set("Cookie", cookieHeader(app, { access }));
      expect([res.status, res.body]).toEqual([200, { userId: "user-1", handle }]);
      expect(res.headers["set-cookie"]).toBeUndefined();
      const optional = await app.http().get("/api/optional").set("Cookie", cookieHeader(app, { access }));
      expect([optional.status, optional.body]).toEqual([200, { userId: "user-1" }]);
    });

    it("wire 5: a guarded GET without a token answers 401 unauthorised (sessionRequired: false lets it through anonymous)", async () => {
      const app = await fixtures.start();
      const res = await app.http().get("/api/me");
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      const forged = await app.http().get("/api/me").set("Cookie", "sAccessToken=not.a.token");
      expect([forged.status, forged.body]).toEqual([401, UNAUTHORISED]);
      const anonymous = await app.http().get("/api/optional");
      expect([anonymous.status, anonymous.body]).toEqual([200, { userId: null }]);
    });

    it("wire 6: an expired access token answers 401 try refresh token and keeps the cookies (even where the session is optional)", async () => {
      const app = await fixtures.start();
      const { access } = await login(app, "user-1");
      app.clock.advance(15 * MINUTE - SECOND);
      const lastSecond = await app.http().get("/api/me").set("Cookie", cookieHeader(app, { access }));
      expect(lastSecond.status).toBe(200);
      app.clock.advance(SECOND);
      for (const path of ["/api/me", "/api/optional"]) {
        const res = await app.http().get(path).set("Cookie", cookieHeader(app, { access }));
        expect([path, res.status, res.body]).toEqual([path, 401, TRY_REFRESH]);
        expect(res.headers["set-cookie"]).toBeUndefined();
        expect(res.headers["front-token"]).toBeUndefined();
      }
    });
  });
}
