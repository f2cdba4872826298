import { copyFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { close, launchBrowser, listen, type Running } from "./harness";

// The whole sample app in Chromium: sign up, log in, dashboard, automatic refresh past an
// access-token expiry, a second device revoked from the first, sign out.
const { createSampleApp } = require("../../sample-app/server") as {
  createSampleApp(options: { accessTokenTtl?: string }): Promise<{ app: import("express").Express }>;
};
const OUTPUT = path.resolve(__dirname, "../../test-output");
const DOCS = path.resolve(__dirname, "../../docs");
const ACCESS_TTL_MS = 3000;
jest.setTimeout(90_000);

let browser: Browser;
let running: Running | undefined;
let base: string;

beforeAll(async () => {
  browser = await launchBrowser();
  const { app } = await createSampleApp({ accessTokenTtl: `${ACCESS_TTL_MS}ms` });
  running = await listen(app);
  base = running.url.replace("127.0.0.1", "localhost");
  mkdirSync(OUTPUT, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await close(running);
});

async function screenshot(page: Page, name: string): Promise<void> {
  const file = path.join(OUTPUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS === "1") {
    mkdirSync(DOCS, { recursive: true });
    copyFileSync(file, path.join(DOCS, `${name}.png`));
  }
}

it("walks sign-up, log-in, refresh, second-device revocation and sign-out", async () => {
  const laptop = await (await browser.newContext({ viewport: { width: 1100, height: 760 }, userAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36" })).newPage();
  const email = `ada-${Date.now()}@example.com`;

  // Sign up lands on the dashboard.
  await laptop.goto(`${base}/signup`);
  await laptop.fill("input[name=name]", "Ada Lovelace");
  await laptop.fill("input[name=email]", email);
  await laptop.fill("input[name=password]", "analytical-engine");
  await laptop.click("button");
  await laptop.waitForURL(`${base}/dashboard`);
  await laptop.waitForSelector("text=Hello, Ada Lovelace");

  // Sign out, then a wrong password is refused kindly, and the right one logs in.
  await laptop.click("[data-sign-out]");
  await laptop.waitForURL(`${base}/`);
  await laptop.fill("input[name=email]", email);
  await laptop.fill("input[name=password]", "wrong-password");
  await laptop.click("form button");
  await laptop.waitForSelector("text=That email and password do not match. Try again.");
  await laptop.fill("input[name=password]", "analytical-engine");
  await laptop.click("form button");
  await laptop.waitForURL(`${base}/dashboard`);
  await laptop.waitForSelector("text=Hello, Ada Lovelace");
  const handle = await laptop.textContent("#handle");

  // Past an access-token expiry the page still loads its data: the SDK refreshed.
  await laptop.waitForTimeout(ACCESS_TTL_MS + 800);
  await laptop.click("#reload");
  await laptop.waitForFunction('Number(document.getElementById("refreshes").textContent) >= 1');
  expect(await laptop.textContent("#handle")).toBe(handle);
  expect(laptop.url()).toBe(`${base}/dashboard`);
  await screenshot(laptop, "dashboard");

  // A second device logs in.
  const phone = await (await browser.newContext({ userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1" })).newPage();
  await phone.goto(`${base}/`);
  await phone.fill("input[name=email]", email);
  await phone.fill("input[name=password]", "analytical-engine");
  await phone.click("form button");
  await phone.waitForURL(`${base}/dashboard`);

  // The laptop sees both devices and revokes the phone.
  await laptop.goto(`${base}/sessions`);
  await laptop.waitForSelector("text=Safari on iOS");
  expect(await laptop.locator("tbody tr").count()).toBe(2);
  expect(await laptop.textContent("tbody")).toContain("this device");
  await screenshot(laptop, "sessions");
  await laptop.click("button[data-handle]");
  await laptop.waitForSelector("text=That device has been signed out.");
  expect(await laptop.locator("tbody tr").count()).toBe(1);

  // The phone's next call fails its refresh and lands on the log-in page.
  await phone.click("#reload");
  await phone.waitForURL(`${base}/`);
  expect(await phone.evaluate(() => (globalThis as unknown as { supertokensSession: { doesSessionExist(): Promise<boolean> } }).supertokensSession.doesSessionExist())).toBe(false);

  // Sign out on the laptop.
  await laptop.click("[data-sign-out]");
  await laptop.waitForURL(`${base}/`);
  const res = await laptop.evaluate(async () => (await fetch("/api/me")).status);
  expect(res).toBe(401);
});
