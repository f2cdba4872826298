import { ROLES_CLAIM } from "../roles";
import { cookieHeader, cookieOf, cookieTokens, decodeJwtPart, frontOf, headerTokens, login, setCookies, MINUTE, type Fixtures } from "../support";

const NOT_ADMIN = {
  message: "invalid claim",
  claimValidationErrors: [{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } }],
};

/**
 * Claims (DESIGN §6.3) and re-signed tokens: a failed claim answers the SDK's 403 body, a
 * claim fetched inside the guard and a payload merged in the route re-sign the access token
 * on that same response (cookie or header, and front-token), the refresh token untouched.
 */
export function claimsConformance(fixtures: Fixtures): void {
  describe("claims and re-signed tokens", () => {
    it("GET /api/admin: 403 with the exact invalid-claim body for a user, 200 for an admin", async () => {
      const app = await fixtures.start({ claims: [ROLES_CLAIM] });
      const user = await login(app, "user-1");
      const refused = await app.http().get("/api/admin").set("Cookie", cookieHeader(app, { access: user.access }));
      expect([refused.status, refused.body]).toEqual([403, NOT_ADMIN]);
      const admin = await login(app, "admin-1");
      const ok = await app.http().get("/api/admin").set("Cookie", cookieHeader(app, { access: admin.access }));
      expect([ok.status, ok.body]).toEqual([200, { userId: "admin-1" }]);
      // The claim is the route's alone: other guarded routes let the user in.
      const me = await app.http().get("/api/me").set("Cookie", cookieHeader(app, { access: user.access }));
      expect(me.status).toBe(200);
    });

    it("a claim fetched inside the guard re-signs the access token on the same response (cookie and front-token, same expiry)", async () => {
      // ROLES_CLAIM is not registered, so the login does not fetch it: the validator does.
      const app = await fixtures.start();
      const { access } = await login(app, "admin-1");
      expect(decodeJwtPart(access, 1)).not.toHaveProperty("st-role");
      app.clock.advance(MINUTE);
      const res = await app.http().get("/api/admin").set("Cookie", cookieHeader(app, { access }));
      expect([res.status, res.body]).toEqual([200, { userId: "admin-1" }]);
      expect([...setCookies(res).keys()]).toEqual([app.names.access]);
      const resigned = decodeJwtPart(cookieOf(res, app.names.access).value, 1);
      const before = decodeJwtPart(access, 1);
      expect(resigned).toEqual({ ...before, "st-role": { v: ["admin"], t: app.clock.now() }, iat: app.clock.now() / 1000 });
      expect(frontOf(res)).toEqual({ uid: "admin-1", ate: (before.exp as number) * 1000, up: resigned });
    });

    it("a refetched claim that fails re-signs and then refuses: the 403 carries the new token", async () => {
      const app = await fixtures.start();
      const { access } = await login(app, "user-1");
      const res = await app.http().get("/api/admin").set("Cookie", cookieHeader(app, { access }));
      expect([res.status, res.body]).toEqual([403, NOT_ADMIN]);
      expect(decodeJwtPart(cookieTokens(app, res).access, 1)["st-role"]).toEqual({ v: ["user"], t: app.clock.now() });
      expect(frontOf(res).up["st-role"]).toEqual({ v: ["user"], t: app.clock.now() });
    });

    it("POST /api/payload re-signs the access token on its response: a new cookie and a front-token with the merged keys", async () => {
      const app = await fixtures.start();
      const { access, handle } = await login(app, "user-1", { accessTokenPayload: { plan: "free", theme: "dark" } });
      const res = await app.http().post("/api/payload").set("Cookie", cookieHeader(app, { access })).send({ plan: "pro", theme: null });
      expect([res.status, res.body]).toEqual([200, {}]);
      expect([...setCookies(res).keys()]).toEqual([app.names.access]);
      const payload = decodeJwtPart(cookieTokens(app, res).access, 1);
      expect(payload).toMatchObject({ plan: "pro", sub: "user-1", sid: handle, exp: decodeJwtPart(access, 1).exp });
      expect(payload).not.toHaveProperty("theme");
      expect(frontOf(res)).toEqual({ uid: "user-1", ate: (payload.exp as number) * 1000, up: payload });
      expect((await app.sessions.getSessionInformation(handle))?.accessTokenPayload).toEqual({ plan: "pro" });
    });

    it("POST /api/payload in header mode re-signs into st-access-token, with no cookie", async () => {
      const app = await fixtures.start();
      const { access } = await login(app, "user-1", {}, { "st-auth-mode": "header" });
      const res = await app.http().post("/api/payload").set("Authorization", `Bearer ${access}`).send({ plan: "pro" });
      expect([res.status, res.body]).toEqual([200, {}]);
      expect(res.headers["set-cookie"]).toBeUndefined();
      const { access: resigned, refresh } = headerTokens(res);
      expect(refresh).toBe("");
      expect(decodeJwtPart(resigned, 1).plan).toBe("pro");
      expect(frontOf(res).up.plan).toBe("pro");
      const me = await app.http().get("/api/me").set("Authorization", `Bearer ${resigned}`);
      expect(me.status).toBe(200);
    });
  });
}
