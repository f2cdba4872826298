import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import fs from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { memoryStore } from "../../lib";
import type { FrameworkApp, FrameworkDriver } from "../frameworks/driver";
import { fastifyDriver } from "../frameworks/drivers/fastify";
import { fetchDriver } from "../frameworks/drivers/fetch";
import { koaDriver } from "../frameworks/drivers/koa";
import { nextAppDriver, nextDriver } from "../frameworks/drivers/next";
import { bundleFile, launchBrowser } from "./harness";

// The published SuperTokens frontend SDK (supertokens-web-js's browser bundles, in Chromium)
// against the Fastify, Koa, fetch and Next.js adapters' conformance apps (spec/frameworks/drivers/): login, refresh
// on expiry, two tabs refreshing at once, sign-out. The page and the app share one origin
// through a small proxy that serves the page and passes everything else to the app untouched,
// as a frontend and its API behind one host are deployed.
const ACCESS_TTL_MS = 2000;
const DRIVERS: readonly FrameworkDriver[] = [fastifyDriver, koaDriver, fetchDriver, nextDriver, nextAppDriver];
jest.setTimeout(120_000);

/** What the page puts on `window`. */
interface W {
  supertokensSession: {
    doesSessionExist(): Promise<boolean>;
    getUserId(): Promise<string>;
    signOut(): Promise<void>;
  };
  login(userId: string): Promise<number>;
  me(): Promise<{ status: number; body: unknown }>;
}
// Each runs its function in the tab (serialised there: it can name only the page's globals).
const inTab = {
  exists: (tab: Page) => tab.evaluate(() => (globalThis as unknown as W).supertokensSession.doesSessionExist()),
  userId: (tab: Page) => tab.evaluate(() => (globalThis as unknown as W).supertokensSession.getUserId()),
  signOut: (tab: Page) => tab.evaluate(() => (globalThis as unknown as W).supertokensSession.signOut()),
  login: (tab: Page, userId: string) => tab.evaluate((id) => (globalThis as unknown as W).login(id), userId),
  me: (tab: Page) => tab.evaluate(() => (globalThis as unknown as W).me()),
};

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(DRIVERS.map((driver) => [driver.name, driver] as const))("the SuperTokens frontend SDK against %s", (_name, driver) => {
  describe.each(["cookie", "header"] as const)("%s mode", (mode) => {
    let app: FrameworkApp;
    let front: Front;
    let context: BrowserContext;

    beforeAll(async () => {
      app = await driver.start({ logger: false, store: memoryStore(), accessTokenTtl: `${ACCESS_TTL_MS}ms` });
      front = await frontOf(app.url, driver.apiBasePath, mode);
    });
    afterAll(async () => {
      await front?.close();
      await app?.close();
    });
    beforeEach(async () => {
      context = await browser.newContext();
    });
    afterEach(async () => {
      await context?.close();
    });

    async function open(): Promise<Page> {
      const tab = await context.newPage();
      await tab.goto(front.url);
      await tab.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true);
      return tab;
    }

    it("logs in, and the SDK sees the session", async () => {
      const tab = await open();
      expect(await inTab.exists(tab)).toBe(false);
      expect(await inTab.login(tab, "user-ü")).toBe(200);
      expect(await inTab.exists(tab)).toBe(true);
      expect(await inTab.userId(tab)).toBe("user-ü");
      expect(await inTab.me(tab)).toMatchObject({ status: 200, body: { userId: "user-ü" } });
      if (mode === "cookie") {
        const names = (await context.cookies()).filter((cookie) => cookie.httpOnly).map((cookie) => cookie.name).sort();
        expect(names).toEqual(["sAccessToken", "sRefreshToken"]);
      }
    });

    it("refreshes an expired access token on the 401 and retries, with no visible error", async () => {
      const tab = await open();
      await inTab.login(tab, "user-1");
      await tab.waitForTimeout(ACCESS_TTL_MS + 1200);
      const before = front.refreshes;
      expect(await inTab.me(tab)).toMatchObject({ status: 200, body: { userId: "user-1" } });
      expect(front.refreshes).toBeGreaterThan(before);
    });

    it("keeps the session when two tabs' access tokens expire at once", async () => {
      const first = await open();
      await inTab.login(first, "user-2");
      const second = await open();
      await first.waitForTimeout(ACCESS_TTL_MS + 1200);
      const results = await Promise.all([inTab.me(first), inTab.me(second)]);
      expect(results).toEqual([
        expect.objectContaining({ status: 200, body: expect.objectContaining({ userId: "user-2" }) }),
        expect.objectContaining({ status: 200, body: expect.objectContaining({ userId: "user-2" }) }),
      ]);
      await first.waitForTimeout(ACCESS_TTL_MS + 1200);
      expect(await inTab.me(second)).toMatchObject({ status: 200, body: { userId: "user-2" } });
      // One session throughout: no refresh was taken for theft.
      expect(await app.sessions.getAllSessionHandlesForUser("user-2")).toHaveLength(1);
    });

    it("signOut() revokes the session server-side and the SDK reports no session", async () => {
      const tab = await open();
      await inTab.login(tab, "user-3");
      const [handle] = await app.sessions.getAllSessionHandlesForUser("user-3");
      await inTab.signOut(tab);
      expect(await inTab.exists(tab)).toBe(false);
      expect(await app.sessions.getSessionInformation(handle!)).toMatchObject({ revokedAt: expect.any(Number) });
      expect((await inTab.me(tab)).status).toBe(401);
    });
  });
});

interface Front {
  url: string;
  refreshes: number;
  close(): Promise<void>;
}

/**
 * One origin for the page and the app: `/` is the page (the SDK's bundles, initialised with
 * the app's `apiBasePath` and the transfer mode), `/sdk/*` the bundles, anything else is
 * passed to the app as it came (the Host header included, so the app sees its own origin).
 */
async function frontOf(appUrl: string, apiBasePath: string, mode: "cookie" | "header"): Promise<Front> {
  const bundleDir = path.dirname(require.resolve("supertokens-web-js/package.json")) + "/bundle";
  const bundles = ["website", "supertokens", "session"].map(bundleFile);
  const target = new URL(appUrl);
  const front: Front = { url: "", refreshes: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    const url = req.url ?? "/";
    if (url === "/") {
      res.setHeader("Content-Type", "text/html; charset=utf-8");
      return void res.end(pageHtml(bundles, front.url, apiBasePath, mode));
    }
    if (url.startsWith("/sdk/")) {
      const file = url.slice("/sdk/".length);
      if (!bundles.includes(file)) return void res.writeHead(404).end();
      res.setHeader("Content-Type", "text/javascript");
      return void fs.createReadStream(path.join(bundleDir, file)).pipe(res);
    }
    if (url.startsWith(`${apiBasePath}/session/refresh`)) front.refreshes++;
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.rawHeaders);
      answer.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  front.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  front.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return front;
}

function pageHtml(bundles: string[], origin: string, apiBasePath: string, mode: "cookie" | "header"): string {
  return `<!doctype html><meta charset="utf-8"><title>latchkey frameworks e2e</title>
${bundles.map((file) => `<script src="/sdk/${file}"></script>`).join("\n")}
<script>
  supertokens.init({
    appInfo: { appName: "latchkey-e2e", apiDomain: ${JSON.stringify(origin)}, apiBasePath: ${JSON.stringify(apiBasePath)} },
    recipeList: [supertokensSession.init({ tokenTransferMethod: ${JSON.stringify(mode)} })],
  });
  window.login = async (userId) => {
    const res = await fetch("/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId }) });
    return res.status;
  };
  window.me = async () => {
    const res = await fetch("/api/me");
    return { status: res.status, body: await res.json() };
  };
  window.ready = true;
</script>`;
}
