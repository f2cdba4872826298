import { spawn } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import mysql from "mysql2/promise";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { DATABASE_URL, uniquePrefix } from "../helpers";
import { launchBrowser } from "./harness";

// The sample app, run as `npm start` runs it (node sample-app/server.js against the built
// package), clicked through in Chromium on each store. Screenshots land in test-output/;
// the README's (docs/*.png) come from `node sample-app/screenshots.js`.
const ROOT = path.resolve(__dirname, "../..");
const OUTPUT = path.join(ROOT, "test-output");
const ACCESS_TTL = "3s"; // exp is floored to a whole second: a token lives 2 to 3 s
const FRESH_SECONDS = "6"; // requireFresh's window for the password change (300 by default)
const PASSWORD = "correct horse battery";
const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
// A role change reaches another device at its next heartbeat (every 3 s while visible).
const WITHIN_HEARTBEAT = { timeout: 10_000 };
jest.setTimeout(60_000);

let browser: Browser;
const contexts: BrowserContext[] = [];
beforeAll(async () => {
  // The app requires "latchkey" by name, which resolves to dist/.
  if (!existsSync(path.join(ROOT, "dist/index.js"))) throw new Error("dist/ is missing: run `npm run build` (npm test does).");
  browser = await launchBrowser();
});
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(["memory", "mysql"] as const)("the sample app on the %s store", (kind) => {
  const prefix = uniquePrefix();
  let app: SampleApp;

  beforeAll(async () => {
    // On MySQL, an accounts table from before roles existed: the app adds the column.
    if (kind === "mysql") await createLegacyUsersTable(prefix);
    const storage: Record<string, string> =
      kind === "mysql"
        ? { LATCHKEY_DATABASE_URL: DATABASE_URL, LATCHKEY_TABLE_PREFIX: prefix, SAMPLE_USERS_TABLE: `${prefix}users` }
        : { LATCHKEY_DATABASE_URL: "" };
    app = await startSampleApp(storage);
  });
  afterAll(async () => {
    await app?.stop();
    if (kind === "mysql") await dropTables(prefix);
  });

  /** A browser of its own: its own cookies, as a second device has. */
  async function device(userAgent?: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1040, height: 600 }, ...(userAgent ? { userAgent } : {}) });
    contexts.push(context);
    return context.newPage();
  }

  async function submit(page: Page, form: "login" | "signup", name: string, password: string): Promise<void> {
    await page.goto(`${app.url}/${form}`);
    await page.fill("input[name=name]", name);
    await page.fill("input[name=password]", password);
    await page.click("button[type=submit]");
  }

  async function logIn(page: Page, name: string, password: string): Promise<void> {
    await submit(page, "login", name, password);
    await dashboard(page);
  }

  /** Waits for the dashboard to load; resolves to the session handle it shows. */
  async function dashboard(page: Page): Promise<string> {
    await page.waitForURL(`${app.url}/`);
    await page.waitForSelector("main:not([aria-busy])");
    return (await page.textContent("#session-handle")) ?? "";
  }

  /** Opens a signed-in page and waits for it to load. */
  async function open(page: Page, pathname: string): Promise<void> {
    await page.goto(`${app.url}${pathname}`);
    await page.waitForSelector("main:not([aria-busy])");
  }

  /** Opens the sessions page; resolves to the device names it lists. */
  async function sessionsPage(page: Page): Promise<string[]> {
    await open(page, "/sessions");
    return page.locator("#sessions li [data-field=name]").allTextContents();
  }

  it("binds 127.0.0.1 and prints it with the demo credentials; a wrong password gets a message and no session", async () => {
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(app.output()).toContain(`latchkey sample app on ${app.url}\n  only this machine can reach it (set HOST=0.0.0.0`);
    expect(app.output()).toContain("log in as demo / latchkey-demo");
    // Bound to the loopback address only, not to every address: 127.0.0.2 is refused.
    const port = Number(new URL(app.url).port);
    expect(await reachable("127.0.0.1", port)).toBe(true);
    expect(await reachable("127.0.0.2", port)).toBe(false);

    const page = await device();
    await submit(page, "login", "demo", "not-the-password");
    await page.getByText("That user name and password don't match.").waitFor();
    expect(page.url()).toBe(`${app.url}/login`);
    expect(await sdkSessionExists(page)).toBe(false);
    expect((await page.context().cookies()).map((cookie) => cookie.name)).not.toContain("sAccessToken");
    await page.fill("input[name=password]", "latchkey-demo");
    await page.click("button[type=submit]");
    await dashboard(page);
    expect(await page.textContent("#greeting-name")).toBe("demo");

    // The printed credentials keep working: the demo account's password cannot be changed
    // (asked with a recent login, confirming the password first if it is not recent enough).
    const change = () => post(page, "/api/me/password", { password: "a new demo password" });
    let changed = await change();
    if (changed.status === 403 && (changed.body as { claimValidationErrors?: unknown }).claimValidationErrors) {
      expect(await post(page, "/api/reauthenticate", { password: "latchkey-demo" })).toMatchObject({ status: 200 });
      changed = await change();
    }
    expect(changed).toEqual({
      status: 403,
      body: { message: "The demo account keeps its password (latchkey-demo) so that everyone can log in. Sign up to change a password of your own." },
    });
    if (kind === "mysql") expect(await columnsOf(`${prefix}users`)).toContain("roles");
  });

  it("signs up, logs in, renews its access token at zero by itself, revokes a second device, signs out everywhere else and out", async () => {
    const first = await device();

    // Sign up, sign out (the log-in page says so), log in.
    await submit(first, "signup", "alice", PASSWORD);
    await dashboard(first);
    await first.click("#sign-out");
    await first.waitForURL(`${app.url}/login?signed-out=1`);
    await first.getByText("You signed out. This device no longer has a session.").waitFor();
    expect(await sdkSessionExists(first)).toBe(false);
    await logIn(first, "alice", PASSWORD);

    // The dashboard: user, handle, countdown, the configured lifetime, and the payload as the SDK reads it.
    const handle = await first.textContent("#session-handle");
    expect(await first.textContent("#user-name")).toBe("alice");
    expect(await first.textContent("#countdown")).toMatch(/^(0:0[1-3]|Renewing…)$/);
    expect(await first.textContent("#lifetime")).toBe("3 seconds");
    const payload = JSON.parse((await first.textContent("#payload")) ?? "null");
    expect(payload).toMatchObject({ name: "alice", sid: handle, sub: await first.textContent("#user-id"), iss: "latchkey", "st-role": { v: [] } });

    // No click: when the countdown reaches zero the page renews the token itself, the
    // session stays the same, and the countdown starts again from the full lifetime.
    const refreshed = await first.waitForResponse((response) => response.url().endsWith("/auth/session/refresh"), { timeout: 10_000 });
    expect(refreshed.status()).toBe(200);
    await first.getByText(/^Renewed [1-9]\d* times?$/).waitFor();
    await first.locator("#countdown", { hasText: /^0:0[1-3]$/ }).waitFor();
    // It keeps doing so: a second renewal, still without a click.
    await first.getByText(/^Renewed ([2-9]|\d{2,}) times$/).waitFor({ timeout: 10_000 });
    expect(await first.textContent("#session-handle")).toBe(handle);
    expect(await first.textContent("#lifetime")).toBe("3 seconds");
    expect(await first.textContent("#renew-error")).toBe("");
    await first.click("#reload");
    await first.getByText(/^GET \/api\/me answered 200 at /).waitFor();
    await screenshot(first, kind, "dashboard");

    // A second device signs in; the first lists both and revokes it, after confirming.
    const second = await device(FIREFOX_ON_WINDOWS);
    await logIn(second, "alice", PASSWORD);
    expect(await sessionsPage(first)).toEqual([expect.stringMatching(/^Chrome \d+ on Linux$/), "Firefox 128 on Windows"]);
    const rows = first.locator("#sessions li");
    expect(await rows.first().getByText("This device").isVisible()).toBe(true);
    expect(await rows.last().getByText("This device").isVisible()).toBe(false);
    expect(await first.locator("#sessions li [data-field=ip]").allTextContents()).toEqual([
      expect.stringMatching(/^(127\.0\.0\.1|::1)$/),
      expect.stringMatching(/^(127\.0\.0\.1|::1)$/),
    ]);
    await screenshot(first, kind, "sessions");
    const revoke = first.getByRole("button", { name: "Revoke Firefox 128 on Windows" });
    // Cancelled: nothing happens.
    const cancelled = answerConfirm(first, false);
    await revoke.click();
    expect(await cancelled).toMatch(/^confirm: Sign out Firefox 128 on Windows \(IP [\d.:]+\)\? It will have to log in again\.$/);
    expect(await rows.count()).toBe(2);
    expect(await first.textContent("#status")).toBe("");
    const accepted = answerConfirm(first, true);
    await revoke.click();
    await accepted;
    await first.getByText("Signed out Firefox 128 on Windows.").waitFor();
    expect(await rows.count()).toBe(1);

    // The second device finds out by itself (its heartbeat, no click) and lands on the log-in page.
    await second.waitForURL(`${app.url}/login?ended=1`, WITHIN_HEARTBEAT);
    await second.getByText("You were signed out").waitFor();
    expect(await sdkSessionExists(second)).toBe(false);

    // Sign out everywhere else, confirmed too.
    await logIn(second, "alice", PASSWORD);
    expect(await sessionsPage(first)).toHaveLength(2);
    const everywhere = answerConfirm(first, true);
    await first.click("#revoke-others");
    expect(await everywhere).toBe("confirm: Sign out the other device? Only this one stays signed in.");
    await first.getByText("Signed out 1 other session.").waitFor();
    expect(await rows.count()).toBe(1);
    await second.waitForURL(`${app.url}/login?ended=1`, WITHIN_HEARTBEAT);

    // Sign out: the session is revoked on the server, not only forgotten by the browser.
    const refreshToken = (await first.context().cookies()).find((cookie) => cookie.name === "sRefreshToken")?.value;
    expect(refreshToken).toEqual(expect.stringContaining("."));
    await first.click("#sign-out");
    await first.waitForURL(`${app.url}/login?signed-out=1`);
    await first.getByText("You signed out.").waitFor();
    expect(await sdkSessionExists(first)).toBe(false);
    const replayed = await fetch(`${app.url}/auth/session/refresh`, {
      method: "POST",
      headers: { origin: app.url, cookie: `sRefreshToken=${refreshToken}` },
    });
    expect([replayed.status, await replayed.json()]).toEqual([401, { message: "unauthorised" }]);
    await first.goto(`${app.url}/sessions`);
    await first.waitForURL(`${app.url}/login`);

    expect(app.output()).not.toContain(PASSWORD);
    if (kind === "mysql") await expectOnlyHashes(prefix, "alice");
  });

  it("revokes only the user's own sessions: another user's handle answers 404", async () => {
    const carol = await device();
    await submit(carol, "signup", "carol", PASSWORD);
    const handle = await dashboard(carol);
    const demo = await device(FIREFOX_ON_WINDOWS);
    await logIn(demo, "demo", "latchkey-demo");
    const statuses = await demo.evaluate(
      (handles) => Promise.all(handles.map(async (h) => (await fetch(`/api/sessions/${h}`, { method: "DELETE" })).status)),
      [handle, "not-a-handle"],
    );
    expect(statuses).toEqual([404, 404]);
    expect(await sessionsPage(carol)).toHaveLength(1);
    await carol.goto(`${app.url}/`);
    expect(await dashboard(carol)).toBe(handle);
  });

  it("opens the admin page to the admin role only, and a role change on one device reaches the other within seconds, no reload", async () => {
    const laptop = await device();
    await submit(laptop, "signup", "dana", PASSWORD);
    await dashboard(laptop);
    const phone = await device(FIREFOX_ON_WINDOWS);
    await logIn(phone, "dana", PASSWORD);
    expect(await phone.locator("#nav-admin").isHidden()).toBe(true);
    expect(await phone.textContent("#roles")).toBe("No roles: the admin page is closed to you.");

    // The server decides, not the menu: the admin API answers 403 "invalid claim".
    expect(await call(phone, "/api/admin/accounts")).toEqual({
      status: 403,
      body: {
        message: "invalid claim",
        claimValidationErrors: [{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: [] } }],
      },
    });
    await open(phone, "/admin");
    await phone.getByText("This page is for admins.").waitFor();
    expect(await phone.locator("#accounts-card").isHidden()).toBe(true);
    await open(phone, "/");
    // The page the phone keeps open from here on: it is never reloaded.
    await phone.evaluate(() => void ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));

    // The laptop makes dana an admin (a demo toggle): its own page at once...
    expect(await laptop.textContent(".demo-note")).toBe("Demo only: in a real app, only an admin grants roles.");
    await laptop.getByRole("button", { name: "Make me admin" }).click();
    await laptop.getByText("You are an admin now: the Admin page is open.").waitFor();
    expect(await laptop.locator("#roles .role").allTextContents()).toEqual(["admin"]);
    await laptop.locator("#nav-admin").waitFor({ state: "visible" });
    expect(await laptop.textContent("#toggle-admin")).toBe("Remove admin");

    // ...and the phone within its heartbeat: the menu shows Admin, the roles card says so.
    await phone.locator("#nav-admin").waitFor({ state: "visible", ...WITHIN_HEARTBEAT });
    await phone.locator("#roles .role", { hasText: "admin" }).waitFor();
    expect(JSON.parse((await phone.textContent("#payload")) ?? "null")["st-role"].v).toEqual(["admin"]);
    await phone.click("#nav-admin");
    await phone.waitForURL(`${app.url}/admin`);
    await phone.locator("#accounts-card").waitFor({ state: "visible" });
    const dana = phone.locator("#accounts tr", { hasText: "dana" });
    expect(await dana.locator("td").allTextContents()).toEqual(["dana you", "admin ", expect.stringMatching(/^(just now|\d+ \w+ ago)$/)]);
    expect(await phone.locator("#accounts tr", { hasText: "demo" }).locator("td").nth(1).textContent()).toBe("none");
    expect((await call(phone, "/api/admin/accounts")).status).toBe(200);
    await screenshot(phone, kind, "admin");
    await phone.evaluate(() => void ((globalThis as unknown as { sameDocument: boolean }).sameDocument = true));

    // The laptop removes the role: the phone's open admin page closes within its heartbeat.
    await laptop.getByRole("button", { name: "Remove admin" }).click();
    await laptop.getByText("You are no longer an admin.").waitFor();
    await laptop.locator("#nav-admin").waitFor({ state: "hidden" });
    await phone.getByText("Your admin role was removed, so this page is closed.").waitFor(WITHIN_HEARTBEAT);
    expect(await phone.locator("#accounts-card").isHidden()).toBe(true);
    expect(await phone.locator("#accounts tr").count()).toBe(0);
    expect(await phone.locator("#nav-admin").isHidden()).toBe(true);
    expect(await phone.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect((await call(phone, "/api/admin/accounts")).status).toBe(403);

    // Granted again, it reopens there, still without a reload; nobody was signed out.
    await laptop.getByRole("button", { name: "Make me admin" }).click();
    await phone.locator("#accounts-card").waitFor({ state: "visible", ...WITHIN_HEARTBEAT });
    expect(await phone.evaluate(() => (globalThis as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);
    expect(await sessionsPage(laptop)).toHaveLength(2);
    if (kind === "mysql") expect(await rolesOf(prefix, "dana")).toBe('["admin"]');
  });

  it("changes the password after a recent login, asking for the current one when the login is older than requireFresh allows", async () => {
    const NEW_PASSWORD = "new battery staple";
    const NEWER_PASSWORD = "newer battery staple";
    const page = await device();
    await submit(page, "signup", "erin", PASSWORD);
    const handle = await dashboard(page);
    const other = await device(FIREFOX_ON_WINDOWS);
    await logIn(other, "erin", PASSWORD);
    await open(page, "/account");
    expect(await page.textContent("#account-name")).toBe("erin");

    // The page counts down the window; once the login is older, it says it will ask.
    await page.getByText("so we will ask for it before changing it.").waitFor({ timeout: 15_000 });
    expect(await page.textContent("#freshness")).toBe("You last entered your password more than 6 seconds ago, so we will ask for it before changing it.");
    await page.fill("#password-form input[name=password]", NEW_PASSWORD);
    await page.fill("#password-form input[name=repeat]", NEW_PASSWORD);
    // (A 401 "try refresh token" may come first, when the 3-second access token has just run out: the SDK refreshes and retries.)
    const refused = page.waitForResponse((response) => response.url().endsWith("/api/me/password") && response.status() !== 401);
    await page.click("#password-form button[type=submit]");
    expect((await refused).status()).toBe(403);
    expect(await (await refused).json()).toEqual({
      message: "invalid claim",
      claimValidationErrors: [{ id: "latchkey-fresh", reason: { message: "session too old", ageInSeconds: expect.any(Number), maxAgeInSeconds: 6 } }],
    });
    await page.locator("#confirm-form").waitFor({ state: "visible" });
    await page.getByText("You last entered your password more than 6 seconds ago. Enter your current password to change it.").waitFor();
    expect(await page.locator("#password-form").isHidden()).toBe(true);

    // A wrong current password: a message, still on the confirmation step, still signed in.
    await page.fill("#confirm-form input[name=current]", "not the password");
    await page.click("#confirm-form button[type=submit]");
    await page.getByText("That is not your current password. Try again.").waitFor();
    expect(await page.locator("#confirm-form").isVisible()).toBe(true);
    expect(page.url()).toBe(`${app.url}/account`);

    // The right one renews the login time in place (same session) and the change goes through.
    await page.fill("#confirm-form input[name=current]", PASSWORD);
    const changed = page.waitForResponse((response) => response.url().endsWith("/api/me/password") && response.status() === 200);
    await page.click("#confirm-form button[type=submit]");
    await changed;
    await page.getByText("Your password was changed. 1 other session was signed out.").waitFor();
    expect(await page.locator("#confirm-form").isHidden()).toBe(true);
    expect(await page.textContent("#freshness")).toMatch(/^You last entered your password just now\. For 0:0[1-6] more you can change it without entering it again\.$/);

    // Within the window it changes again without asking.
    const requests: string[] = [];
    page.on("request", (request) => requests.push(new URL(request.url()).pathname));
    await page.fill("#password-form input[name=password]", NEWER_PASSWORD);
    await page.fill("#password-form input[name=repeat]", NEWER_PASSWORD);
    await page.click("#password-form button[type=submit]");
    await page.getByText("Your password was changed.", { exact: true }).waitFor();
    expect(requests).toContain("/api/me/password");
    expect(requests).not.toContain("/api/reauthenticate");
    expect(await page.locator("#confirm-form").isHidden()).toBe(true);
    // Same session all along (renewed in place, not a new login); the other device was signed out.
    expect(((await call(page, "/api/me")).body as { session: { handle: string } }).session.handle).toBe(handle);
    await other.waitForURL(`${app.url}/login?ended=1`, WITHIN_HEARTBEAT);

    // Mismatched repeats never reach the server.
    const changes = (): number => requests.filter((pathname) => pathname === "/api/me/password").length;
    const sent = changes();
    await page.fill("#password-form input[name=password]", "one password here");
    await page.fill("#password-form input[name=repeat]", "another password");
    await page.click("#password-form button[type=submit]");
    await page.getByText("The two new passwords differ. Type the same one twice.").waitFor();
    expect(changes()).toBe(sent);

    // Only the newest password logs in.
    await submit(other, "login", "erin", PASSWORD);
    await other.getByText("That user name and password don't match.").waitFor();
    await submit(other, "login", "erin", NEW_PASSWORD);
    await other.getByText("That user name and password don't match.").waitFor();
    await logIn(other, "erin", NEWER_PASSWORD);
    expect(app.output()).not.toMatch(/battery/);
  });
});

describe("the sample app's address", () => {
  it("honours HOST: bound there and printed; a wildcard HOST is flagged as reachable from other machines", async () => {
    const app = await startSampleApp({ LATCHKEY_DATABASE_URL: "", HOST: "127.0.0.2" });
    try {
      expect(app.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
      expect(app.output()).toContain(`latchkey sample app on ${app.url}\n  only this machine can reach it`);
      const port = Number(new URL(app.url).port);
      expect(await reachable("127.0.0.2", port)).toBe(true);
      expect(await reachable("127.0.0.1", port)).toBe(false);
      const login = await fetch(`${app.url}/login`);
      expect([login.status, await login.text()]).toEqual([200, expect.stringContaining("<h1>Log in</h1>")]);
    } finally {
      await app.stop();
    }
    // Opened to the network on purpose: it says so, with the demo account's exposure.
    const open = await startSampleApp({ LATCHKEY_DATABASE_URL: "", HOST: "0.0.0.0" });
    try {
      expect(open.url).toMatch(/^http:\/\/localhost:\d+$/);
      expect(open.output()).toContain("  listening on every address (HOST=0.0.0.0): other machines can reach it, and log in as demo\n");
      const port = Number(new URL(open.url).port);
      expect(await reachable("127.0.0.1", port)).toBe(true);
      expect(await reachable("127.0.0.2", port)).toBe(true);
    } finally {
      await open.stop();
    }
  });
});

/** Answers the page's next dialog (accepting or dismissing it); resolves to "type: message". */
function answerConfirm(page: Page, accept: boolean): Promise<string> {
  return new Promise((resolve) => {
    page.once("dialog", (dialog) => {
      const seen = `${dialog.type()}: ${dialog.message()}`;
      void (accept ? dialog.accept() : dialog.dismiss()).then(() => resolve(seen));
    });
  });
}

/** A GET through the page's (SDK-wrapped) fetch. */
function call(page: Page, pathname: string): Promise<{ status: number; body: unknown }> {
  return page.evaluate(async (url) => {
    const res = await fetch(url);
    return { status: res.status, body: await res.json() };
  }, pathname);
}

/** A JSON POST through the page's (SDK-wrapped) fetch. */
function post(page: Page, pathname: string, body: unknown): Promise<{ status: number; body: unknown }> {
  return page.evaluate(
    async ([url, json]) => {
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: json });
      return { status: res.status, body: await res.json() };
    },
    [pathname, JSON.stringify(body)] as const,
  );
}

/** Whether a TCP connection to host:port is accepted. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

interface SampleApp {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Runs sample-app/server.js on a free port and resolves once it prints its URL (on 127.0.0.1 unless `env.HOST` says otherwise). */
function startSampleApp(env: Record<string, string>): Promise<SampleApp> {
  const child = spawn(process.execPath, [path.join(ROOT, "sample-app/server.js")], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "", ACCESS_TOKEN_TTL: ACCESS_TTL, FRESH_SECONDS, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sample app did not start within 15 s:\n${output}`)), 15_000);
    const read = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      const url = /sample app on (http:\/\/\S+:\d+)\n/.exec(output)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        url,
        output: () => output,
        async stop() {
          child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(killer);
        },
      });
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    void exited.then(() => reject(new Error(`the sample app exited:\n${output}`)));
  });
}

async function screenshot(page: Page, kind: string, name: string): Promise<void> {
  mkdirSync(OUTPUT, { recursive: true });
  const file = path.join(OUTPUT, `sample-app-${kind}-${name}.png`);
  await page.mouse.move(0, 0); // no hover effect in the picture
  const main = await page.locator("main").boundingBox();
  const clip = { x: 0, y: 0, width: page.viewportSize()?.width ?? 1040, height: Math.ceil((main?.y ?? 0) + (main?.height ?? 600)) };
  await page.screenshot({ path: file, fullPage: true, clip });
}

/** What the SuperTokens SDK in the page believes: is there a session? */
function sdkSessionExists(page: Page): Promise<boolean> {
  type Sdk = { supertokensSession: { doesSessionExist(): Promise<boolean> } };
  return page.evaluate(() => (globalThis as unknown as Sdk).supertokensSession.doesSessionExist());
}

/** The accounts table holds a per-user salt and a 64-byte scrypt hash: never the password. */
async function expectOnlyHashes(prefix: string, name: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: DATABASE_URL });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(`SELECT * FROM \`${prefix}users\``);
    expect(rows.map((row) => row.name)).toEqual(expect.arrayContaining(["demo", name]));
    for (const row of rows) {
      expect(row.password_salt).toHaveLength(16);
      expect(row.password_hash).toHaveLength(64);
      for (const value of Object.values(row)) expect(String(value)).not.toContain(PASSWORD);
    }
    const salts = new Set(rows.map((row) => (row.password_salt as Buffer).toString("hex")));
    expect(salts.size).toBe(rows.length);
  } finally {
    await connection.end();
  }
}

/** The accounts table as the sample app created it before roles: no `roles` column. */
async function createLegacyUsersTable(prefix: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: DATABASE_URL });
  try {
    await connection.query(`CREATE TABLE \`${prefix}users\` (
      id CHAR(36) NOT NULL PRIMARY KEY,
      name VARCHAR(32) NOT NULL UNIQUE,
      password_salt VARBINARY(16) NOT NULL,
      password_hash VARBINARY(64) NOT NULL,
      created_at BIGINT NOT NULL
    )`);
  } finally {
    await connection.end();
  }
}

async function columnsOf(table: string): Promise<string[]> {
  const connection = await mysql.createConnection({ uri: DATABASE_URL });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
      [table],
    );
    return rows.map((row) => String(row.name));
  } finally {
    await connection.end();
  }
}

async function rolesOf(prefix: string, name: string): Promise<string | undefined> {
  const connection = await mysql.createConnection({ uri: DATABASE_URL });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(`SELECT roles FROM \`${prefix}users\` WHERE name = ?`, [name]);
    return rows[0]?.roles;
  } finally {
    await connection.end();
  }
}

async function dropTables(prefix: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: DATABASE_URL });
  try {
    for (const table of ["sessions", "signing_keys", "secrets", "claim_invalidations", "schema_version", "users"]) {
      await connection.query(`DROP TABLE IF EXISTS \`${prefix}${table}\``);
    }
  } finally {
    await connection.end();
  }
}
