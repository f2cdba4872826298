import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import mysql from "mysql2/promise";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { DATABASE_URL, uniquePrefix } from "../helpers";
import { launchBrowser } from "./harness";

// The sample app, run as `npm start` runs it (node sample-app/server.js against the built
// package), clicked through in Chromium on each store. UPDATE_SCREENSHOTS=1 also copies
// the screenshots of the MySQL run to docs/ for the README.
const ROOT = path.resolve(__dirname, "../..");
const OUTPUT = path.join(ROOT, "test-output");
const ACCESS_TTL = "3s"; // exp is rounded up to a whole second: a token lives 3 to 4 s
const PASSWORD = "correct horse battery";
const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
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

  /** Opens the sessions page; resolves to the device names it lists. */
  async function sessionsPage(page: Page): Promise<string[]> {
    await page.goto(`${app.url}/sessions`);
    await page.waitForSelector("main:not([aria-busy])");
    return page.locator("#sessions li [data-field=name]").allTextContents();
  }

  it("prints its URL and the demo credentials; a wrong password gets a message and no session", async () => {
    expect(app.output()).toContain(`latchkey sample app on ${app.url}`);
    expect(app.output()).toContain("log in as demo / latchkey-demo");
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
  });

  it("signs up, logs in, outlives its access token, revokes a second device, signs out everywhere else and out", async () => {
    const first = await device();

    // Sign up, sign out, log in.
    await submit(first, "signup", "alice", PASSWORD);
    await dashboard(first);
    await first.click("#sign-out");
    await first.waitForURL(`${app.url}/login`);
    await logIn(first, "alice", PASSWORD);

    // The dashboard: user, handle, countdown, and the payload as the SDK reads it.
    const handle = await first.textContent("#session-handle");
    expect(await first.textContent("#user-name")).toBe("alice");
    expect(await first.textContent("#countdown")).toMatch(/^(0:0[1-4]|Expired)$/);
    const payload = JSON.parse((await first.textContent("#payload")) ?? "null");
    expect(payload).toMatchObject({ name: "alice", sid: handle, sub: await first.textContent("#user-id"), iss: "latchkey" });

    // Past the access token's expiry the data still loads: the SDK refreshes on the way.
    await first.getByText("Expired", { exact: true }).waitFor();
    const refreshed = first.waitForResponse((response) => response.url().endsWith("/auth/session/refresh"));
    await first.click("#reload");
    expect((await refreshed).status()).toBe(200);
    await first.getByText(/^Renewed [1-9]\d* times?$/).waitFor();
    await first.locator("#countdown", { hasNotText: "Expired" }).waitFor();
    expect(await first.textContent("#session-handle")).toBe(handle);
    expect(await first.textContent("#countdown")).toMatch(/^0:0[1-4]$/);
    await screenshot(first, kind, "dashboard");

    // A second device signs in; the first lists both and revokes it.
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
    await first.getByRole("button", { name: "Revoke Firefox 128 on Windows" }).click();
    await first.getByText("Signed out Firefox 128 on Windows.").waitFor();
    expect(await rows.count()).toBe(1);

    // The second device finds out at its next API call and lands on the log-in page.
    await second.click("#reload");
    await second.waitForURL(`${app.url}/login?ended=1`);
    await second.getByText("You were signed out").waitFor();
    expect(await sdkSessionExists(second)).toBe(false);

    // Sign out everywhere else.
    await logIn(second, "alice", PASSWORD);
    expect(await sessionsPage(first)).toHaveLength(2);
    await first.click("#revoke-others");
    await first.getByText("Signed out 1 other session.").waitFor();
    expect(await rows.count()).toBe(1);
    await second.click("#reload");
    await second.waitForURL(`${app.url}/login?ended=1`);

    // Sign out: the session is revoked on the server, not only forgotten by the browser.
    const refreshToken = (await first.context().cookies()).find((cookie) => cookie.name === "sRefreshToken")?.value;
    expect(refreshToken).toEqual(expect.stringContaining("."));
    await first.click("#sign-out");
    await first.waitForURL(`${app.url}/login`);
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
});

interface SampleApp {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Runs sample-app/server.js on a free port and resolves once it prints its URL. */
function startSampleApp(env: Record<string, string>): Promise<SampleApp> {
  const child = spawn(process.execPath, [path.join(ROOT, "sample-app/server.js")], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", ACCESS_TOKEN_TTL: ACCESS_TTL, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sample app did not start within 15 s:\n${output}`)), 15_000);
    const read = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      const url = /sample app on (http:\/\/localhost:\d+)/.exec(output)?.[1];
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
  if (process.env.UPDATE_SCREENSHOTS === "1" && kind === "mysql") {
    mkdirSync(path.join(ROOT, "docs"), { recursive: true });
    copyFileSync(file, path.join(ROOT, "docs", `${name}.png`));
  }
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

async function dropTables(prefix: string): Promise<void> {
  const connection = await mysql.createConnection({ uri: DATABASE_URL });
  try {
    for (const table of ["sessions", "signing_keys", "secrets", "schema_version", "users"]) {
      await connection.query(`DROP TABLE IF EXISTS \`${prefix}${table}\``);
    }
  } finally {
    await connection.end();
  }
}
