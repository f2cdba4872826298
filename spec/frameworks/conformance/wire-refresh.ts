import {
  attributesOf,
  cookieHeader,
  cookieOf,
  cookieTokens,
  expectClearedCookies,
  expectNoCookies,
  expiresOf,
  exposed,
  frontOf,
  login,
  DAY,
  MINUTE,
  SECOND,
  UNAUTHORISED,
  type Fixtures,
} from "../support";

/**
 * The wire check, steps 7–11: `POST {apiBasePath}/session/refresh` rotates, gives an honest
 * race the same successor, ends a stolen lineage, and refuses a request without a token
 * without touching any cookie.
 */
export function wireRefreshConformance(fixtures: Fixtures): void {
  describe("wire: refresh", () => {
    it("wire 7: refresh answers 200 {} and rotates both cookies and front-token, with Cache-Control: no-store", async () => {
      const app = await fixtures.start();
      const before = await login(app, "user-1");
      app.clock.advance(MINUTE);
      const res = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: before.refresh }));
      expect([res.status, res.body]).toEqual([200, {}]);
      const access = cookieOf(res, "sAccessToken");
      const refresh = cookieOf(res, "sRefreshToken");
      expect(attributesOf(access)).toEqual({ path: "/", httponly: true, samesite: "Lax" });
      expect(attributesOf(refresh)).toEqual({ path: app.paths.refresh, httponly: true, samesite: "Lax" });
      // The idle lifetime slides from this refresh.
      expect([expiresOf(access), expiresOf(refresh)]).toEqual([app.clock.now() + 30 * DAY, app.clock.now() + 30 * DAY]);
      expect(access.value).not.toBe(before.access);
      expect(refresh.value).not.toBe(before.refresh);
      expect(refresh.value.startsWith(`${before.handle}.`)).toBe(true);
      expect(frontOf(res)).toMatchObject({ uid: "user-1", ate: app.clock.now() + 15 * MINUTE });
      expect(exposed(res)).toContain("front-token");
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(app.events.refreshed.map((event) => event.handle)).toEqual([before.handle]);
    });

    it("wire 8: the refreshed access token passes the guard; the old refresh token within refreshGrace earns the same successor", async () => {
      const app = await fixtures.start({ refreshGrace: "10s" });
      const before = await login(app, "user-1");
      const first = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: before.refresh }));
      expect(first.status).toBe(200);
      const next = cookieTokens(app, first);
      const me = await app.http().get("/api/me").set("Cookie", cookieHeader(app, { access: next.access }));
      expect([me.status, me.body]).toEqual([200, { userId: "user-1", handle: before.handle }]);

      app.clock.advance(9 * SECOND);
      const raced = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: before.refresh }));
      expect([raced.status, raced.body]).toEqual([200, {}]);
      expect(cookieTokens(app, raced).refresh).toBe(next.refresh);
      expect(app.events.theft).toEqual([]);
      const onward = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: next.refresh }));
      expect(onward.status).toBe(200);
    });

    it("wire 9: the old refresh token after refreshGrace is theft: 401 token theft detected, cookies cleared, the session revoked", async () => {
      const app = await fixtures.start({ refreshGrace: "10s" });
      const before = await login(app, "user-1");
      const first = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: before.refresh }));
      expect(first.status).toBe(200);
      const next = cookieTokens(app, first);

      app.clock.advance(11 * SECOND);
      const stolen = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: before.refresh }));
      expect([stolen.status, stolen.body]).toEqual([401, { message: "token theft detected" }]);
      expectClearedCookies(app, stolen);
      expect(stolen.headers["front-token"]).toBe("remove");
      expect(app.events.theft.map((event) => event.handle)).toEqual([before.handle]);

      // Both holders are out: the thief's successor and the live access token.
      const successor = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: next.refresh }));
      expect([successor.status, successor.body]).toEqual([401, UNAUTHORISED]);
      const strict = await app.http().get("/api/strict").set("Cookie", cookieHeader(app, { access: next.access }));
      expect([strict.status, strict.body]).toEqual([401, UNAUTHORISED]);
      expect(await app.sessions.getAllSessionHandlesForUser("user-1")).toEqual([]);
    });

    it("wire 10: a refresh carrying no token answers 401 unauthorised and sets no cookie (no logout CSRF)", async () => {
      const app = await fixtures.start();
      const res = await app.http().post(app.paths.refresh).set("rid", "anti-csrf").set("fdi-version", "4.0");
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      expectNoCookies(res);
      // An unrelated cookie is no token either.
      const other = await app.http().post(app.paths.refresh).set("Cookie", "theme=dark");
      expect([other.status, other.body]).toEqual([401, UNAUTHORISED]);
      expectNoCookies(other);
    });

    it("wire 11: an unknown or forged refresh token answers 401 unauthorised and clears the cookies", async () => {
      const app = await fixtures.start();
      const { handle, refresh } = await login(app, "user-1");
      const forged = `${handle}.${"A".repeat(refresh.length - handle.length - 1)}`;
      for (const token of ["garbage", forged]) {
        const res = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: token }));
        expect([token, res.status, res.body]).toEqual([token, 401, UNAUTHORISED]);
        expectClearedCookies(app, res);
        expect(res.headers["front-token"]).toBe("remove");
      }
      // A guess at the handle ends nothing: the real token still refreshes.
      const real = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh }));
      expect(real.status).toBe(200);
    });
  });
}
