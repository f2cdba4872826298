// Before `npm test`: the browser specs (spec/e2e) need Chromium, which npm cannot
// download here. Use CHROMIUM_PATH or Debian's /usr/bin/chromium; when it is missing and
// we run as root with apt-get, install Debian's package, saying so; otherwise explain.
const { execFileSync } = require("node:child_process");
const { existsSync } = require("node:fs");

const path = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
if (existsSync(path)) process.exit(0);

const canInstall = process.getuid?.() === 0 && existsSync("/usr/bin/apt-get");
if (!canInstall) {
  console.error(
    `latchkey tests: the browser specs need Chromium at ${path}.\n` +
      "Install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set CHROMIUM_PATH.",
  );
  process.exit(1);
}
console.log("latchkey tests: Chromium is missing; installing Debian's chromium package for the browser specs...");
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
execFileSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
execFileSync("apt-get", ["install", "-y", "-q", "chromium"], { stdio: "inherit", env });
