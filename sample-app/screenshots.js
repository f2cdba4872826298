// @ts-check
// Takes the README's screenshots (docs/dashboard.png, docs/sessions.png, docs/admin.png)
// from the running sample app in headless Chromium:
//
//   npm run build && node sample-app/screenshots.js
//
// It starts its own copy of the app (memory store, a free port on 127.0.0.1, the default
// 15-minute access tokens), signs up a few accounts on three "devices" and photographs the
// pages. Chromium is /usr/bin/chromium unless CHROMIUM_PATH says otherwise.
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");
const { chromium } = require("playwright-core");

const ROOT = path.resolve(__dirname, "..");
const DOCS = path.join(ROOT, "docs");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const PASSWORD = "correct horse battery";
const DEVICES = {
  laptop: undefined, // Chromium's own: "Chrome … on Linux"
  desktop: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
  phone: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
};

async function main() {
  if (!fs.existsSync(path.join(ROOT, "dist/index.js"))) throw new Error("dist/ is missing: run `npm run build` first.");
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it or set CHROMIUM_PATH.`);
  const app = await startApp();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"] });
  try {
    /** @param {string | undefined} userAgent */
    const device = async (userAgent) => {
      const context = await browser.newContext({ viewport: { width: 1040, height: 600 }, colorScheme: "light", ...(userAgent ? { userAgent } : {}) });
      return context.newPage();
    };
    /** @param {import("playwright-core").Page} page @param {"login" | "signup"} form @param {string} name */
    const enter = async (page, form, name) => {
      await page.goto(`${app.url}/${form}`);
      await page.fill("input[name=name]", name);
      await page.fill("input[name=password]", PASSWORD);
      await page.click("button[type=submit]");
      await page.waitForURL(`${app.url}/`);
      await page.waitForSelector("main:not([aria-busy])");
    };

    const bob = await device(DEVICES.desktop);
    await enter(bob, "signup", "bob");
    const laptop = await device(DEVICES.laptop);
    await enter(laptop, "signup", "alice");
    await laptop.getByRole("button", { name: "Make me admin" }).click();
    await laptop.getByText("You are an admin now").waitFor();
    await enter(await device(DEVICES.desktop), "login", "alice");
    await enter(await device(DEVICES.phone), "login", "alice");

    await shoot(laptop, "dashboard");

    await laptop.goto(`${app.url}/sessions`);
    await laptop.waitForSelector("main:not([aria-busy])");
    await shoot(laptop, "sessions");

    await laptop.goto(`${app.url}/admin`);
    await laptop.locator("#accounts-card").waitFor({ state: "visible" });
    await shoot(laptop, "admin");
  } finally {
    await browser.close();
    await app.stop();
  }
}

/** The page down to the end of <main>, without the pointer's hover effects. @param {import("playwright-core").Page} page @param {string} name */
async function shoot(page, name) {
  await page.mouse.move(0, 0);
  const main = await page.locator("main").boundingBox();
  const clip = { x: 0, y: 0, width: 1040, height: Math.ceil((main?.y ?? 0) + (main?.height ?? 600)) };
  fs.mkdirSync(DOCS, { recursive: true });
  const file = path.join(DOCS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, clip });
  console.log(`wrote ${path.relative(ROOT, file)}`);
}

/** @returns {Promise<{ url: string, stop(): Promise<void> }>} */
function startApp() {
  const child = spawn(process.execPath, [path.join(__dirname, "server.js")], {
    cwd: ROOT,
    env: { ...process.env, PORT: "0", HOST: "127.0.0.1", LATCHKEY_DATABASE_URL: "", ACCESS_TOKEN_TTL: "15m", FRESH_SECONDS: "300" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the sample app did not start within 15 s:\n${output}`)), 15_000);
    /** @param {Buffer} chunk */
    const read = (chunk) => {
      output += chunk.toString("utf8");
      const url = /sample app on (http:\/\/\S+:\d+)\n/.exec(output)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        url,
        async stop() {
          child.kill("SIGTERM");
          await exited;
        },
      });
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    void exited.then(() => reject(new Error(`the sample app exited:\n${output}`)));
  });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
