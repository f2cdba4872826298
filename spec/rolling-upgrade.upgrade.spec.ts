import { execFileSync, fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MIGRATIONS, SCHEMA_VERSION } from "../lib/store/schema";
import { DATABASE_URL, StoreFactory } from "./helpers";
import { rollingLoad, type Instance } from "./support/release-load";

// DESIGN §7.4, issue 22 item 1: instances of the previous release and of this one serve
// side by side on one schema, under one load, and nobody is signed out. The previous
// release is built from git history (CI runs in a full clone), as bench/run.js's A/B does.
// LATCHKEY_PREVIOUS_COMMIT runs it against another commit (to see what an incompatible pair does).
const PREVIOUS = { name: "0.2.0", commit: process.env.LATCHKEY_PREVIOUS_COMMIT || "53f708c" };
const ROOT = path.resolve(__dirname, "..");
// LATCHKEY_CURRENT_BUILD runs another build as "this release" (a patched copy of dist/, to see the spec catch an incompatibility).
const CURRENT_BUILD = process.env.LATCHKEY_CURRENT_BUILD || path.join(ROOT, "dist", "index.js");
const SERVER = path.join(__dirname, "support", "release-server.js");

jest.setTimeout(120_000);

interface Running extends Instance {
  child: ChildProcess;
}

/** Starts one instance of the build at `build` (a dist/ directory) on the tables of `prefix`. */
function startInstance(name: string, build: string, prefix: string): Promise<Running> {
  const child = fork(SERVER, [], {
    env: {
      ...process.env,
      LATCHKEY_BUILD: build,
      LATCHKEY_DATABASE_URL: DATABASE_URL,
      LATCHKEY_TABLE_PREFIX: prefix,
      // Short, so that access tokens expire and refreshes happen many times in seconds.
      LATCHKEY_ACCESS_TOKEN_TTL: "2s",
      NODE_ENV: "test",
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (message: { port?: number; error?: string }) => {
      if (message.port) resolve({ name, url: `http://127.0.0.1:${message.port}`, child });
      else reject(new Error(`the ${name} instance did not start: ${message.error}`));
    });
    child.once("exit", (code) => reject(new Error(`the ${name} instance exited (${code}) before it listened`)));
  });
}

function stopInstance(instance: Running | undefined): Promise<void> {
  if (!instance || instance.child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => instance.child.kill("SIGKILL"), 5000);
    instance.child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    instance.child.send("stop");
  });
}

describe(`rolling upgrade from ${PREVIOUS.name} (${PREVIOUS.commit})`, () => {
  const stores = new StoreFactory("mysql");
  let worktree: string;
  let previous: Running | undefined;
  let current: Running | undefined;

  beforeAll(async () => {
    if (!fs.existsSync(CURRENT_BUILD)) throw new Error("build this release first: npm run build (npm test does)");
    worktree = fs.mkdtempSync(path.join(os.tmpdir(), "latchkey-previous-"));
    execFileSync("git", ["worktree", "add", "--detach", worktree, PREVIOUS.commit], { cwd: ROOT, stdio: "ignore" });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(worktree, "node_modules"));
    execFileSync("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: worktree, stdio: "inherit" });
    const prefix = stores.newPrefix();
    // The fleet as it runs before the upgrade: the previous release made the tables.
    previous = await startInstance(PREVIOUS.name, path.join(worktree, "dist", "index.js"), prefix);
    current = await startInstance("this release", CURRENT_BUILD, prefix);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([stopInstance(previous), stopInstance(current)]);
    await stores.cleanup();
    if (worktree) execFileSync("git", ["worktree", "remove", "--force", worktree], { cwd: ROOT, stdio: "ignore" });
  });

  it("needs no schema change: this release's migrations begin with the previous release's, unchanged, and add nothing destructive", () => {
    const before = require(path.join(worktree, "dist", "store", "schema.js")) as { MIGRATIONS: typeof MIGRATIONS; SCHEMA_VERSION: number };
    const prefix = "p_";
    const statements = (migrations: typeof MIGRATIONS) => migrations.map((m) => ({ version: m.version, sql: m.statements(prefix) }));
    // Expand, then contract a release later: what the previous release created stays as it was...
    expect(statements(MIGRATIONS.filter((m) => m.version <= before.SCHEMA_VERSION))).toEqual(statements(before.MIGRATIONS));
    // ...and what this release adds only adds (the previous release keeps writing beside it).
    // (A new table is additive; an altered one may only gain columns the old INSERTs can leave out, and indexes.)
    for (const migration of MIGRATIONS.filter((m) => m.version > before.SCHEMA_VERSION)) {
      for (const sql of migration.statements(prefix).filter((statement) => /^\s*ALTER\b/i.test(statement))) {
        expect(sql).not.toMatch(/\b(DROP|RENAME|MODIFY|CHANGE)\b|NOT NULL(?![^,]*DEFAULT)/i);
      }
    }
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(before.SCHEMA_VERSION);
  });

  it("serves one load across both releases with no sign-out: each verifies and refreshes the other's tokens", async () => {
    const figures = await rollingLoad([previous as Running, current as Running], { clients: 12, seconds: 15 });
    console.log(`rolling upgrade ${PREVIOUS.name} + this release: ${JSON.stringify(figures, null, 2)}`);
    expect(figures.samples).toEqual([]);
    expect(figures.signOuts).toBe(0);
    expect(figures.unexpected).toBe(0);
    const names = [PREVIOUS.name, "this release"];
    for (const name of names) {
      expect(figures.requests[name]).toEqual({ login: 6, get: expect.any(Number), refresh: expect.any(Number) });
      expect(figures.requests[name]?.get).toBeGreaterThan(100);
      expect(figures.requests[name]?.refresh).toBeGreaterThan(100);
    }
    for (const direction of [`${names[0]}→${names[1]}`, `${names[1]}→${names[0]}`]) {
      expect(figures.crossVerified[direction]).toBeGreaterThan(20);
      expect(figures.crossRefreshed[direction]).toBeGreaterThan(20);
    }
    // Access tokens did expire between requests (refreshes were needed, not only made).
    expect(figures.tryRefresh).toBeGreaterThan(5);
    expect(figures.parallelPairs).toBeGreaterThan(20);
    expect(figures.sameSuccessor).toBe(figures.parallelPairs);
  });
});
