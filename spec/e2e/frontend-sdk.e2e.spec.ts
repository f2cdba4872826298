import type { Browser, BrowserContext, Page } from "playwright-core";
import type { SessionMiddlewareOptions, SessionStore } from "../../lib";
import { describeEachStore } from "../helpers";
import { apiApp, close, launchBrowser, listen, pageApp, type ApiCounters, type Running } from "./harness";

// The published SuperTokens frontend SDK (supertokens-web-js) driving latchkey in Chromium.
const ACCESS_TTL_MS = 2000;
jest.setTimeout(60_000);

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describeEachStore("the SuperTokens frontend SDK against latchkey", (stores) => {
  describe.each(["cookie", "header"] as const)("%s mode", (mode) => {
    let api: Running | undefined;
    let page: Running | undefined;
    let context: BrowserContext | undefined;
    let counters: ApiCounters;
    let store: SessionStore;

    async function start(crossOrigin: boolean, options: SessionMiddlewareOptions = {}): Promise<string> {
      store = stores.create();
      page = await listen(pageApp());
      const built = apiApp({ store, accessTokenTtl: `${ACCESS_TTL_MS}ms`, ...options }, crossOrigin ? page.url : undefined);
      counters = built.counters;
      api = crossOrigin ? await listen(built.app) : page;
      if (!crossOrigin) {
        // One origin: mount the API in front of the page server.
        await close(page);
        const combined = built.app;
        combined.use(pageApp());
        page = api = await listen(combined);
      }
      context = await browser.newContext();
      return `${page.url}/?api=${encodeURIComponent(api.url)}&mode=${mode}`;
    }

    async function open(url: string): Promise<Page> {
      const tab = await (context as BrowserContext).newPage();
      await tab.goto(url);
      await tab.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true);
      return tab;
    }

    afterEach(async () => {
      await context?.close();
      await close(api);
      if (page !== api) await close(page);
      api = page = context = undefined;
    });

    it("logs in; doesSessionExist, getUserId and getAccessTokenPayloadSecurely answer from the session", async () => {
      const tab = await open(await start(false));
      expect(await tab.evaluate(() => supertokensSession.doesSessionExist())).toBe(false);
      expect(await tab.evaluate(() => login("user-ü"))).toBe(200);
      expect(await tab.evaluate(() => supertokensSession.doesSessionExist())).toBe(true);
      expect(await tab.evaluate(() => supertokensSession.getUserId())).toBe("user-ü");
      const payload = await tab.evaluate(() => supertokensSession.getAccessTokenPayloadSecurely());
      expect(payload).toMatchObject({ role: "admin", sub: "user-ü" });
      expect(await tab.evaluate(() => getData())).toEqual({ status: 200, body: { userId: "user-ü" } });
    });

    it("refreshes an expired access token on a 401 and retries, with no visible error", async () => {
      const tab = await open(await start(false));
      await tab.evaluate(() => login("user-1"));
      await tab.waitForTimeout(ACCESS_TTL_MS + 1200);
      const before = counters.refreshes;
      expect(await tab.evaluate(() => getData())).toEqual({ status: 200, body: { userId: "user-1" } });
      expect(counters.refreshes).toBeGreaterThan(before);
      expect(counters.theft).toBe(0);
    });

    it("keeps the session when two tabs' access tokens expire at once", async () => {
      const url = await start(false);
      const first = await open(url);
      await first.evaluate(() => login("user-1"));
      const second = await open(url);
      await first.waitForTimeout(ACCESS_TTL_MS + 1200);
      const results = await Promise.all([first.evaluate(() => getData()), second.evaluate(() => getData())]);
      expect(results).toEqual([
        { status: 200, body: { userId: "user-1" } },
        { status: 200, body: { userId: "user-1" } },
      ]);
      expect(counters.theft).toBe(0);
      await first.waitForTimeout(ACCESS_TTL_MS + 1200);
      expect(await second.evaluate(() => getData())).toEqual({ status: 200, body: { userId: "user-1" } });
    });

    it("signOut() revokes the session server-side and the SDK reports no session", async () => {
      const tab = await open(await start(false));
      await tab.evaluate(() => login("user-1"));
      const [handle] = (await store.listForUser("user-1", Date.now(), { limit: 10 })).map((row) => row.handle);
      await tab.evaluate(() => supertokensSession.signOut());
      expect(await tab.evaluate(() => supertokensSession.doesSessionExist())).toBe(false);
      expect((await store.findSession(handle as string))?.revokedAt).toEqual(expect.any(Number));
      expect((await tab.evaluate(() => getData())).status).toBe(401);
    });

    it("works with Secure, __Host-/__Secure- prefixed cookies (Chromium treats http://localhost as secure)", async () => {
      const url = (await start(false, { cookieSecure: true })).replaceAll("127.0.0.1", "localhost");
      const tab = await open(url);
      expect(await tab.evaluate(() => login("user-1"))).toBe(200);
      if (mode === "cookie") {
        const names = (await (context as BrowserContext).cookies()).filter((c) => c.httpOnly).map((c) => c.name).sort();
        expect(names).toEqual(["__Host-sAccessToken", "__Secure-sRefreshToken"]);
      }
      await tab.waitForTimeout(ACCESS_TTL_MS + 1200);
      expect(await tab.evaluate(() => getData())).toEqual({ status: 200, body: { userId: "user-1" } });
      await tab.evaluate(() => supertokensSession.signOut());
      expect(await tab.evaluate(() => supertokensSession.doesSessionExist())).toBe(false);
    });

    it("works with the page and the API on different origins (CORS with credentials)", async () => {
      const tab = await open(await start(true));
      expect(await tab.evaluate(() => login("user-x"))).toBe(200);
      expect(await tab.evaluate(() => supertokensSession.getUserId())).toBe("user-x");
      await tab.waitForTimeout(ACCESS_TTL_MS + 1200);
      expect(await tab.evaluate(() => getData())).toEqual({ status: 200, body: { userId: "user-x" } });
      await tab.evaluate(() => supertokensSession.signOut());
      expect(await tab.evaluate(() => supertokensSession.doesSessionExist())).toBe(false);
    });
  });
});

declare global {
  const supertokensSession: {
    doesSessionExist(): Promise<boolean>;
    getUserId(): Promise<string>;
    getAccessTokenPayloadSecurely(): Promise<Record<string, unknown>>;
    signOut(): Promise<void>;
  };
  function login(userId: string): Promise<number>;
  function getData(): Promise<{ status: number; body: unknown }>;
}
