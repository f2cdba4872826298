import { cookieHeader, login, UNAUTHORISED, type Fixtures } from "../support";

/** The management API on the value the adapter's factory returned (DESIGN §1, §7.1). */
export function managementConformance(fixtures: Fixtures): void {
  describe("management API on the factory value", () => {
    it("ready() resolves once the store is usable", async () => {
      const app = await fixtures.start();
      await expect(app.sessions.ready()).resolves.toBeUndefined();
    });

    it("revokeSession(handle) ends the session at once for checkDatabase routes and for refresh", async () => {
      const app = await fixtures.start();
      const { access, refresh, handle } = await login(app, "user-1");
      const other = await login(app, "user-1");
      expect((await app.sessions.getAllSessionHandlesForUser("user-1")).sort()).toEqual([handle, other.handle].sort());
      await expect(app.sessions.revokeSession(handle)).resolves.toBe(true);
      const strict = await app.http().get("/api/strict").set("Cookie", cookieHeader(app, { access }));
      expect([strict.status, strict.body]).toEqual([401, UNAUTHORISED]);
      const refreshed = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh }));
      expect([refreshed.status, refreshed.body]).toEqual([401, UNAUTHORISED]);
      expect(app.events.revoked.map((event) => [event.handle, event.reason])).toEqual([[handle, "admin"]]);
      // The other session is untouched.
      const still = await app.http().get("/api/strict").set("Cookie", cookieHeader(app, { access: other.access }));
      expect([still.status, still.body]).toEqual([200, { userId: "user-1" }]);
      await expect(app.sessions.revokeSession(handle)).resolves.toBe(false);
    });

    it("revokeAllSessionsForUser ends every session of the user, and only theirs", async () => {
      const app = await fixtures.start();
      const one = await login(app, "user-1");
      const two = await login(app, "user-1");
      const bystander = await login(app, "user-2");
      expect((await app.sessions.revokeAllSessionsForUser("user-1")).sort()).toEqual([one.handle, two.handle].sort());
      for (const { access } of [one, two]) {
        const res = await app.http().get("/api/strict").set("Cookie", cookieHeader(app, { access }));
        expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
      }
      const res = await app.http().get("/api/strict").set("Cookie", cookieHeader(app, { access: bystander.access }));
      expect(res.status).toBe(200);
    });
  });
}
