import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { createApp, DATABASE_URL, login, StoreFactory } from "./helpers";

const run = promisify(execFile);
const CLI = path.resolve(__dirname, "../dist/cli.js");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, LATCHKEY_DATABASE_URL: DATABASE_URL, ...env },
      timeout: 15_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("npx latchkey (CLI, run as a process)", () => {
  const stores = new StoreFactory("mysql");
  afterAll(() => stores.cleanup());

  it("prints help, and refuses unknown commands and missing arguments with exit 2", async () => {
    const help = await cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: latchkey <command> \[options\]/);
    const unknown = await cli(["sessions", "delete", "x"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "sessions delete x"/);
    const missing = await cli(["sessions", "list"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/sessions list takes exactly one argument/);
  });

  it("exits non-zero with a clear message on a missing or bad URL and an unreachable database", async () => {
    const none = await cli(["cleanup"], { LATCHKEY_DATABASE_URL: "" });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/set LATCHKEY_DATABASE_URL=mysql:\/\//);
    const bad = await cli(["cleanup"], { LATCHKEY_DATABASE_URL: "postgres://u:hunter2@db/x" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must start with mysql:\/\//);
    expect(bad.stderr).not.toMatch(/hunter2/);
    const down = await cli(["migrate"], { LATCHKEY_DATABASE_URL: "mysql://root:hunter2@127.0.0.1:1/test" });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot use the database at mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/test \(ECONNREFUSED/);
    expect(down.stderr).not.toMatch(/hunter2/);
  });

  it("prints the schema without a database, and applies it idempotently", async () => {
    const printed = await cli(["migrate", "--print", "--table-prefix", "acme_"], { LATCHKEY_DATABASE_URL: "" });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/CREATE TABLE IF NOT EXISTS `acme_sessions`/);
    expect(printed.stdout).toMatch(/INSERT IGNORE INTO `acme_schema_version`/);

    const prefix = stores.newPrefix();
    for (let i = 0; i < 2; i++) {
      const applied = await cli(["migrate", "--table-prefix", prefix]);
      expect([applied.code, applied.stdout]).toEqual([0, "latchkey: schema is at version 1.\n"]);
    }
    const connection = await mysql.createConnection({ uri: DATABASE_URL });
    const [rows] = await connection.query("SHOW TABLES LIKE ?", [`${prefix}%`]);
    await connection.end();
    expect((rows as unknown[]).length).toBe(4);
  });

  it("lists and revokes sessions, by handle and by user", async () => {
    const prefix = stores.newPrefix();
    const { app } = createApp({ store: stores.create(prefix) });
    const first = await login(app, "cli-user");
    const second = await login(app, "cli-user");

    const listed = await cli(["sessions", "list", "cli-user", "--json", "--table-prefix", prefix]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((s: { handle: string }) => s.handle)).toEqual([first.handle, second.handle]);
    expect(listed.stdout).not.toMatch(/Hash|refresh_token/);

    const revoked = await cli(["sessions", "revoke", first.handle, "--table-prefix", prefix]);
    expect(revoked.stdout).toBe(`Revoked session ${first.handle}.\n`);
    const again = await cli(["sessions", "revoke", first.handle, "--table-prefix", prefix]);
    expect(again.stdout).toBe(`No live session ${first.handle}; nothing revoked.\n`);
    const all = await cli(["sessions", "revoke-user", "cli-user", "--json", "--table-prefix", prefix]);
    expect(JSON.parse(all.stdout)).toEqual({ revoked: [second.handle] });
    const none = await cli(["sessions", "list", "cli-user", "--table-prefix", prefix]);
    expect(none.stdout).toBe("No live sessions for cli-user.\n");
  });

  it("cleans up expired sessions in batches with progress, and rotates keys", async () => {
    const prefix = stores.newPrefix();
    const store = stores.create(prefix);
    const { app } = createApp({ store });
    const live = await login(app, "keeper");
    const past = Date.now() - 1000;
    for (let i = 0; i < 2500; i += 250) {
      await Promise.all(
        Array.from({ length: 250 }, (_, j) =>
          store.createSession({
            handle: `00000000-0000-4000-8000-${String(i + j).padStart(12, "0")}`,
            userId: "gone",
            refreshTokenHash: Buffer.alloc(32, 1),
            prevRefreshTokenHash: null,
            rotatedAt: null,
            accessTokenPayload: {},
            sessionData: {},
            createdAt: past - 10_000,
            lastRefreshedAt: past - 10_000,
            expiresAt: past,
            absoluteExpiresAt: past,
            revokedAt: null,
            ip: null,
            userAgent: null,
          }),
        ),
      );
    }
    const cleaned = await cli(["cleanup", "--table-prefix", prefix]);
    expect(cleaned.code).toBe(0);
    expect(cleaned.stderr).toMatch(/deleted 1000 expired sessions\.\.\.\ndeleted 2000 expired sessions\.\.\.\ndeleted 2500 expired sessions\.\.\./);
    expect(cleaned.stdout).toBe("Deleted 2500 expired session(s) and 0 retired signing key(s).\n");
    expect(await store.findSession(live.handle)).not.toBeNull();

    const rotated = await cli(["keys", "rotate", "--json", "--table-prefix", prefix]);
    expect(rotated.code).toBe(0);
    const { kid } = JSON.parse(rotated.stdout);
    expect((await store.listSigningKeys()).map((key) => key.kid)).toContain(kid);
  });
});
