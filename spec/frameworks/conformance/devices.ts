import { cookieOf, expiresOf, login, DAY, HOUR, type Fixtures } from "../support";

const AGENT = "Mozilla/5.0 (conformance) latchkey-suite/1.0";
const LOOPBACK = ["127.0.0.1", "::ffff:127.0.0.1"];

/**
 * What the adapter resolves the framework's way and hands to the core: the client's IP and
 * user agent (the device list, the events), and the cookie lifetime of each kind of login.
 */
export function devicesConformance(fixtures: Fixtures): void {
  describe("device metadata and cookie lifetimes", () => {
    it("records the IP and user agent of a login in listSessions and the onSessionCreated event", async () => {
      const app = await fixtures.start();
      const { handle } = await login(app, "user-1", {}, { "User-Agent": AGENT });
      const listed = await app.sessions.listSessions("user-1");
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ handle, userId: "user-1", userAgent: AGENT, current: false, persistent: true });
      expect(LOOPBACK).toContain(listed[0]?.ip);
      const [event] = app.events.created;
      expect(event).toMatchObject({ handle, userId: "user-1", userAgent: AGENT, clientUserAgent: AGENT });
      expect(LOOPBACK).toContain(event?.ip);
      expect(LOOPBACK).toContain(event?.clientIp);
    });

    it("a default login's cookies expire with the session's idle expiry (refreshTokenTtl)", async () => {
      const app = await fixtures.start({ refreshTokenTtl: "7d" });
      const { res } = await login(app, "user-1");
      const expected = app.clock.now() + 7 * DAY;
      expect([expiresOf(cookieOf(res, app.names.access)), expiresOf(cookieOf(res, app.names.refresh))]).toEqual([expected, expected]);
    });

    it("rememberMe: false sets browser-session cookies: no Expires, no Max-Age", async () => {
      const app = await fixtures.start();
      const { res } = await login(app, "user-1", { rememberMe: false });
      for (const name of [app.names.access, app.names.refresh]) {
        const { attributes } = cookieOf(res, name);
        expect([name, attributes.expires, attributes["max-age"]]).toEqual([name, undefined, undefined]);
      }
    });

    it('sessionTtl: { idle: "1h" } makes the cookies expire in an hour', async () => {
      const app = await fixtures.start();
      const { res, handle } = await login(app, "user-1", { sessionTtl: { idle: "1h" } });
      const expected = app.clock.now() + HOUR;
      expect([expiresOf(cookieOf(res, app.names.access)), expiresOf(cookieOf(res, app.names.refresh))]).toEqual([expected, expected]);
      expect(await app.sessions.getSessionInformation(handle)).toMatchObject({ idleTtl: HOUR, expiresAt: expected, persistent: true });
    });
  });
}
