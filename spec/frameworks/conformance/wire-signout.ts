import { cookieHeader, cookieTokens, expectClearedCookies, expectNoCookies, exposed, login, UNAUTHORISED, type Fixtures } from "../support";

/**
 * The wire check, steps 12–17: sign-out, the SDK's own headers, the JWKS endpoint, and
 * `OPTIONS` passing through.
 */
export function wireSignOutConformance(fixtures: Fixtures): void {
  describe("wire: sign-out, SDK headers, JWKS, OPTIONS", () => {
    it('wire 12: sign-out answers 200 {"status":"OK"}, clears both cookies and sends front-token: remove, with Cache-Control: no-store', async () => {
      const app = await fixtures.start();
      const { access, refresh, handle } = await login(app, "user-1");
      const res = await app.http().post(app.paths.signout).set("Cookie", cookieHeader(app, { access, refresh })).set("rid", "session").set("fdi-version", "1.18");
      expect([res.status, res.body]).toEqual([200, { status: "OK" }]);
      expectClearedCookies(app, res);
      expect(res.headers["front-token"]).toBe("remove");
      expect(exposed(res)).toContain("front-token");
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(app.events.revoked.map((event) => [event.handle, event.reason])).toEqual([[handle, "sign-out"]]);
    });

    it("wire 13: after sign-out the session is gone: checkDatabase refuses the access token, refresh refuses the refresh token", async () => {
      const app = await fixtures.start();
      const { access, refresh } = await login(app, "user-1");
      const out = await app.http().post(app.paths.signout).set("Cookie", cookieHeader(app, { access }));
      expect(out.status).toBe(200);
      const strict = await app.http().get("/api/strict").set("Cookie", cookieHeader(app, { access }));
      expect([strict.status, strict.body]).toEqual([401, UNAUTHORISED]);
      const refreshed = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh }));
      expect([refreshed.status, refreshed.body]).toEqual([401, UNAUTHORISED]);
      expectClearedCookies(app, refreshed);
    });

    it("wire 14: sign-out without a token answers 401 unauthorised and sets no cookie (the SDK refreshes and retries)", async () => {
      const app = await fixtures.start();
      const res = await app.http().post(app.paths.signout);
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      expectNoCookies(res);
    });

    it.each([
      ["the SDK's values", { rid: "anti-csrf", "fdi-version": "1.18" }],
      ["unknown values", { rid: "emailpassword", "fdi-version": "99.9" }],
      ["empty values", { rid: "", "fdi-version": "" }],
    ])("wire 15: rid and fdi-version are accepted whatever their value (%s)", async (_label, headers) => {
      const app = await fixtures.start();
      const { access, refresh } = await login(app, "user-1", {}, headers);
      const me = await app.http().get("/api/me").set(headers).set("Cookie", cookieHeader(app, { access }));
      expect([me.status, me.body.userId]).toEqual([200, "user-1"]);
      const post = await app.http().post("/api/me").set(headers).set("Cookie", cookieHeader(app, { access }));
      expect([post.status, post.body]).toEqual([200, { userId: "user-1" }]);
      const refreshed = await app.http().post(app.paths.refresh).set(headers).set("Cookie", cookieHeader(app, { refresh }));
      expect([refreshed.status, refreshed.body]).toEqual([200, {}]);
      const out = await app.http().post(app.paths.signout).set(headers).set("Cookie", cookieHeader(app, { access: cookieTokens(app, refreshed).access }));
      expect([out.status, out.body]).toEqual([200, { status: "OK" }]);
    });

    it("wire 16: the JWKS answers 200 with the public signing keys and a Cache-Control tied to key rotation", async () => {
      const app = await fixtures.start();
      const { access } = await login(app, "user-1");
      const res = await app.http().get(app.paths.jwks);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.headers["cache-control"]).toMatch(/^public, max-age=\d+$/);
      const keys = res.body.keys as Record<string, unknown>[];
      expect(keys.length).toBeGreaterThan(0);
      const kid = JSON.parse(Buffer.from(access.split(".")[0] as string, "base64url").toString()).kid;
      expect(keys.find((key) => key.kid === kid)).toEqual(expect.objectContaining({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid }));
      for (const key of keys) expect(key).not.toHaveProperty("d");
      expectNoCookies(res);
    });

    it("wire 17: OPTIONS passes latchkey untouched: a preflight is never refused or given tokens", async () => {
      const app = await fixtures.start();
      for (const path of ["/api/me", "/api/admin", app.paths.refresh, app.paths.signout]) {
        const res = await app
          .http()
          .options(path)
          .set("Origin", "http://frontend.example")
          .set("Access-Control-Request-Method", "POST")
          .set("Access-Control-Request-Headers", "rid,fdi-version,st-auth-mode");
        expect([path, res.status === 401 || res.status === 403 || res.status >= 500]).toEqual([path, false]);
        expect([path, res.body?.message]).not.toEqual([path, UNAUTHORISED.message]);
        expectNoCookies(res);
        expect(res.headers["front-token"]).toBeUndefined();
      }
    });
  });
}
