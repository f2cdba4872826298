import { mysqlStore } from "../../../lib";
import { DATABASE_URL } from "../../helpers";
import { tcpProxy } from "../../support/tcp-proxy";
import { breakableStore, cookieHeader, expectNoCookies, login, STORE_DOWN, type Fixtures } from "../support";

/**
 * Session errors are answered by latchkey, never by the framework's 500 page: a
 * `SessionError` thrown in a route, and a store that stops answering (DESIGN §1, §7.2).
 */
export function errorsConformance(fixtures: Fixtures): void {
  describe("session errors and store outages", () => {
    it("a route that throws SessionError STORE_UNAVAILABLE answers 503 with latchkey's JSON body", async () => {
      const app = await fixtures.start();
      const { access } = await login(app, "user-1");
      const res = await app.http().get("/api/boom").set("Cookie", cookieHeader(app, { access }));
      expect([res.status, res.body]).toEqual([503, STORE_DOWN]);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expectNoCookies(res);
    });

    it("with the store down, login and refresh answer 503 STORE_UNAVAILABLE, guarded reads go on, and the app recovers", async () => {
      const broken = breakableStore(fixtures.stores.create());
      const app = await fixtures.start({ store: broken.store });
      const before = await login(app, "user-1");

      broken.down(true);
      const loginRes = await app.http().post("/login").send({ userId: "user-2" });
      expect([loginRes.status, loginRes.body]).toEqual([503, STORE_DOWN]);
      expectNoCookies(loginRes);
      const refreshRes = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: before.refresh }));
      expect([refreshRes.status, refreshRes.body]).toEqual([503, STORE_DOWN]);
      expectNoCookies(refreshRes);
      expect(refreshRes.headers["front-token"]).toBeUndefined();
      const strict = await app.http().get("/api/strict").set("Cookie", cookieHeader(app, { access: before.access }));
      expect([strict.status, strict.body.code]).toEqual([503, "STORE_UNAVAILABLE"]);
      // Verification needs no I/O: it keeps working.
      const me = await app.http().get("/api/me").set("Cookie", cookieHeader(app, { access: before.access }));
      expect(me.status).toBe(200);

      // The same process serves again once the store is back.
      broken.down(false);
      await login(app, "user-2");
      const refreshed = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: before.refresh }));
      expect([refreshed.status, refreshed.body]).toEqual([200, {}]);
    });
  
    if (fixtures.stores.kind === "mysql") {
      it("with MySQL unreachable for real (a refusing TCP proxy), login and refresh answer 503 STORE_UNAVAILABLE", async () => {
        const url = new URL(DATABASE_URL);
        const proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
        try {
          const store = mysqlStore(
            { host: "127.0.0.1", port: proxy.port, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1), connectTimeout: 1000 },
            { tablePrefix: fixtures.stores.newPrefix(), queryTimeoutMs: 800 },
          );
          const app = await fixtures.start({ store });
          const before = await login(app, "user-1");
          await proxy.refuse();
          const loginRes = await app.http().post("/login").send({ userId: "user-2" });
          expect([loginRes.status, loginRes.body]).toEqual([503, STORE_DOWN]);
          expectNoCookies(loginRes);
          const refreshRes = await app.http().post(app.paths.refresh).set("Cookie", cookieHeader(app, { refresh: before.refresh }));
          expect([refreshRes.status, refreshRes.body]).toEqual([503, STORE_DOWN]);
          expectNoCookies(refreshRes);
          await app.close();
        } finally {
          await proxy.close();
        }
      });
    }
  });
}
