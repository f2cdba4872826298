import { attributesOf, cookieOf, frontOf, login, setCookies, UNAUTHORISED, type Fixtures } from "../support";

const ACCESS = "__Host-sAccessToken";
const REFRESH = "__Secure-sRefreshToken";

/**
 * Secure cookies and the anchored refresh (DESIGN §2, §6.1): with `cookieSecure: true` the
 * names carry the browser-enforced prefixes, and a `__Secure-` refresh cookie planted by a
 * sibling subdomain is never used: the unplantable `__Host-` access cookie picks the session.
 */
export function anchoringConformance(fixtures: Fixtures): void {
  describe("secure cookies and the anchored refresh", () => {
    it("cookieSecure: true names the cookies __Host-sAccessToken (Path=/, no Domain) and __Secure-sRefreshToken, both Secure", async () => {
      const app = await fixtures.start({ cookieSecure: true });
      const { res } = await login(app, "user-1");
      expect([...setCookies(res).keys()].sort()).toEqual([ACCESS, REFRESH]);
      expect(attributesOf(cookieOf(res, ACCESS))).toEqual({ path: "/", httponly: true, secure: true, samesite: "Lax" });
      expect(attributesOf(cookieOf(res, REFRESH))).toEqual({ path: app.paths.refresh, httponly: true, secure: true, samesite: "Lax" });
    });

    it("a planted refresh cookie of another session, sent before the victim's, is not used: the victim's session refreshes", async () => {
      const app = await fixtures.start({ cookieSecure: true });
      const victim = await login(app, "victim");
      const attacker = await login(app, "attacker");
      // What the browser sends after attacker.example.com planted its cookie on example.com.
      const res = await app
        .http()
        .post(app.paths.refresh)
        .set("Cookie", `${REFRESH}=${attacker.refresh}; ${REFRESH}=${victim.refresh}; ${ACCESS}=${victim.access}`);
      expect([res.status, res.body]).toEqual([200, {}]);
      expect(frontOf(res).uid).toBe("victim");
      expect(cookieOf(res, REFRESH).value.startsWith(`${victim.handle}.`)).toBe(true);
      expect(app.events.refreshed.map((event) => event.handle)).toEqual([victim.handle]);
      expect(app.events.theft).toEqual([]);
      // The attacker's token was neither rotated nor burnt.
      const planted = await app.http().post(app.paths.refresh).set("Cookie", `${REFRESH}=${attacker.refresh}`);
      expect([planted.status, frontOf(planted).uid]).toEqual([200, "attacker"]);
    });

    it("two refresh cookies of different sessions and no access cookie answer 401 unauthorised (never first that works)", async () => {
      const app = await fixtures.start({ cookieSecure: true });
      const one = await login(app, "user-1");
      const two = await login(app, "user-2");
      const res = await app.http().post(app.paths.refresh).set("Cookie", `${REFRESH}=${one.refresh}; ${REFRESH}=${two.refresh}`);
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      expect(app.events.refreshed).toEqual([]);
    });

    it("the only refresh cookie belonging to another session than the access cookie answers 401 unauthorised", async () => {
      const app = await fixtures.start({ cookieSecure: true });
      const victim = await login(app, "victim");
      const attacker = await login(app, "attacker");
      const res = await app.http().post(app.paths.refresh).set("Cookie", `${REFRESH}=${attacker.refresh}; ${ACCESS}=${victim.access}`);
      expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      expect(app.events.refreshed).toEqual([]);
    });
  });
}
