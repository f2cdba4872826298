import mysql from "mysql2/promise";
import type { Browser, BrowserContext } from "playwright-core";
import { mysqlStore, type SessionStore } from "../../lib";
import { DATABASE_URL, uniquePrefix } from "../helpers";
import { CoreDatabase, cookieFlow, flows } from "../support/supertokens-core";
import { apiApp, close, launchBrowser, listen, pageApp, type Running } from "./harness";

// Issue 21 in a real browser: a user signed in under SuperTokens core (its cookies as the core's
// SDK set them, captured from a real core 10.1.8) stays signed in when the backend becomes
// latchkey: the published frontend SDK gets 401 "try refresh token", refreshes with the core's
// refresh token, the session moves, and the request is retried, with no visible error.
jest.setTimeout(60_000);

const lk = uniquePrefix();
const core = new CoreDatabase(`${uniquePrefix()}st_`);
let browser: Browser;
let context: BrowserContext | undefined;
let running: Running | undefined;
let store: SessionStore | undefined;

beforeAll(async () => {
  browser = await launchBrowser();
  await core.create();
});
afterAll(async () => {
  await browser?.close();
  await core.drop();
  const db = await mysql.createConnection({ uri: DATABASE_URL });
  for (const table of ["sessions", "signing_keys", "secrets", "claim_invalidations", "schema_version"]) await db.query(`DROP TABLE IF EXISTS \`${lk}${table}\``);
  await db.end();
});
afterEach(async () => {
  await context?.close();
  await close(running);
  await store?.close();
});

it("the SuperTokens frontend SDK keeps a core user signed in across the switch: one refresh moves the session", async () => {
  await core.seed(cookieFlow.loginRow);
  store = mysqlStore(DATABASE_URL, { tablePrefix: lk });
  const { app, counters } = apiApp({ store, migrateFromSuperTokens: { tablePrefix: core.prefix } });
  app.use(pageApp());
  running = await listen(app);
  context = await browser.newContext();
  const host = new URL(running.url).hostname;
  const login = flows.cookieLegacyRotationAndTheft.steps[0].response;
  // What the browser held under SuperTokens: the core's HttpOnly cookies and the SDK's front token.
  await context.addCookies([
    { name: "sAccessToken", value: cookieFlow.AT0, domain: host, path: "/", httpOnly: true, sameSite: "Lax" },
    { name: "sRefreshToken", value: encodeURIComponent(cookieFlow.RT0), domain: host, path: "/auth/session/refresh", httpOnly: true, sameSite: "Lax" },
    { name: "sFrontToken", value: login.headers["front-token"], domain: host, path: "/", sameSite: "Lax" },
  ]);
  const tab = await context.newPage();
  await tab.goto(`${running.url}/?api=${encodeURIComponent(running.url)}&mode=cookie`);
  await tab.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true);

  expect(await tab.evaluate(() => (globalThis as unknown as { getData(): Promise<unknown> }).getData())).toEqual({ status: 200, body: { userId: "user-cookie-1" } });
  expect(counters.refreshes).toBe(1);
  expect(counters.theft).toBe(0);
  expect(await core.row(cookieFlow.loginRow.session_handle)).toBeUndefined();
  const cookies = await context.cookies();
  expect(cookies.find((cookie) => cookie.name === "sRefreshToken")?.value).toMatch(/^feeb4402-/);
  // And it goes on as a latchkey session.
  expect(await tab.evaluate(() => (globalThis as unknown as { getData(): Promise<unknown> }).getData())).toEqual({ status: 200, body: { userId: "user-cookie-1" } });
  expect(counters.refreshes).toBe(1);
});
