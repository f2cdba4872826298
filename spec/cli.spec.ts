import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import type { RowDataPacket } from "mysql2/promise";
import { MIGRATIONS, schemaSql, SCHEMA_VERSION, schemaVersionTable, TABLES } from "../lib/store/schema";
import type { SessionRecord, SessionStore } from "../lib/store/store";
import { createApp, DATABASE_URL, login, StoreFactory } from "./helpers";

const run = promisify(execFile);
const CLI = path.resolve(__dirname, "../dist/cli.js");
const VERSION = (JSON.parse(readFileSync(path.resolve(__dirname, "../package.json"), "utf8")) as { version: string }).version;
const COMMANDS = ["migrate", "sessions list", "sessions revoke", "sessions revoke-user", "cleanup", "keys list", "keys rotate"];
const UNKNOWN_HANDLE = "00000000-0000-4000-8000-00000000dead";

// Every CLI call is a fresh Node process; some tests make a dozen of them.
jest.setTimeout(60_000);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, LATCHKEY_DATABASE_URL: DATABASE_URL, LATCHKEY_TABLE_PREFIX: undefined, ...env },
      timeout: 15_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** A session row as the 0.2 store holds it, live until `expiresAt`. */
function sessionRecord(handle: string, userId: string, createdAt: number, expiresAt: number, extra: Partial<SessionRecord> = {}): SessionRecord {
  return {
    handle,
    userId,
    refreshTokenHash: Buffer.alloc(32, 1),
    prevRefreshTokenHash: null,
    lineageHash: Buffer.alloc(32, 2),
    rotatedAt: null,
    undelivered: false,
    accessTokenPayload: {},
    sessionData: {},
    createdAt,
    lastRefreshedAt: createdAt,
    authTime: createdAt,
    expiresAt,
    absoluteExpiresAt: expiresAt,
    idleTtl: null,
    persistent: true,
    revokedAt: null,
    ip: null,
    userAgent: null,
    lastIp: null,
    lastUserAgent: null,
    ...extra,
  };
}

function handle(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
}

describe("npx latchkey (CLI, run as a process)", () => {
  const stores = new StoreFactory("mysql");
  let db: mysql.Connection;
  beforeAll(async () => {
    db = await mysql.createConnection({ uri: DATABASE_URL, multipleStatements: true });
  });
  afterAll(async () => {
    await db.end();
    await stores.cleanup();
  });

  async function tablesWith(prefix: string): Promise<string[]> {
    const [rows] = await db.query<RowDataPacket[]>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name",
    );
    return rows.map((row) => String(row.name)).filter((name) => name.startsWith(prefix));
  }

  async function count(table: string): Promise<number> {
    const [rows] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\``);
    return Number(rows[0]?.n);
  }

  it("prints its version, its help and each command's help, without a database", async () => {
    const noDatabase = { LATCHKEY_DATABASE_URL: "" };
    const version = await cli(["--version"], noDatabase);
    expect(version).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });

    const help = await cli(["--help"], noDatabase);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: latchkey <command> \[options\]/);
    expect(help.stdout).toMatch(/\n {2}--version {2,}print latchkey's version\n/);
    expect(help.stdout).toMatch(/Exit codes:\n {2}0 {2}success\n {2}1 {2}the database cannot be used.*\n {2}2 {2}usage error.*\n {2}3 {2}a revoke that revoked nothing\n/);
    expect((await cli(["help"], noDatabase)).stdout).toBe(help.stdout);

    const helps = await Promise.all(
      COMMANDS.map(async (name) => ({
        name,
        flag: await cli([...name.split(" "), "--help"], noDatabase),
        word: await cli(["help", ...name.split(" ")], noDatabase),
      })),
    );
    for (const { name, flag, word } of helps) {
      expect(flag.code).toBe(0);
      expect(flag.stdout.startsWith(`Usage: latchkey ${name}`)).toBe(true);
      expect(flag.stdout).toMatch(/\nExit codes:\n {2}0 /);
      expect(word).toEqual(flag);
    }
    const byName = new Map(helps.map(({ name, flag }) => [name, flag.stdout]));
    expect(byName.get("migrate")).toMatch(/--print .*\n {2}--from <version> /);
    expect(byName.get("sessions list")).toMatch(/^Usage: latchkey sessions list <userId> \[options\]\n[\s\S]*--limit <n> [\s\S]*--cursor <cursor> /);
    expect(byName.get("sessions revoke")).toMatch(/\n {2}3 {2}no live session has that handle/);
    expect(byName.get("sessions revoke-user")).toMatch(/\n {2}3 {2}the user had no live session/);
    // Help wins over a missing argument.
    expect((await cli(["sessions", "list", "-h"], noDatabase)).stdout).toBe(byName.get("sessions list"));
  });

  it("refuses unknown commands, options and missing arguments with exit 2", async () => {
    const bare = await cli([]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: latchkey <command> \[options\]/);
    const unknown = await cli(["sessions", "delete", "x"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "sessions delete x"/);
    const missing = await cli(["sessions", "list"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/sessions list takes exactly one argument/);
    expect(missing.stderr).toMatch(/Run `latchkey sessions list --help` for usage\./);
    const option = await cli(["sessions", "list", "u", "--lmit", "3"]);
    expect([option.code, option.stderr]).toEqual([2, expect.stringMatching(/unknown option --lmit/)]);
    const elsewhere = await cli(["cleanup", "--limit", "3"]);
    expect([elsewhere.code, elsewhere.stderr]).toEqual([2, expect.stringMatching(/cleanup takes no --limit option/)]);
    const limit = await cli(["sessions", "list", "u", "--limit", "0"]);
    expect([limit.code, limit.stderr]).toEqual([2, expect.stringMatching(/--limit must be a whole number from 1 to 1000 \(got "0"\)/)]);
  });

  it("exits 2 on a missing or bad URL or prefix, and 1 on an unreachable database, never showing the password", async () => {
    const none = await cli(["cleanup"], { LATCHKEY_DATABASE_URL: "" });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/set LATCHKEY_DATABASE_URL=mysql:\/\//);
    const bad = await cli(["cleanup"], { LATCHKEY_DATABASE_URL: "postgres://u:hunter2@db/x" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/must start with mysql:\/\//);
    expect(bad.stderr).not.toMatch(/hunter2/);
    const down = await cli(["migrate"], { LATCHKEY_DATABASE_URL: "mysql://root:hunter2@127.0.0.1:1/test" });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot use the database at mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/test \(ECONNREFUSED.*\): unreachable/);
    expect(down.stderr).not.toMatch(/hunter2/);

    const flag = await cli(["sessions", "list", "u", "--table-prefix", "a-b"]);
    expect([flag.code, flag.stderr]).toEqual([2, expect.stringMatching(/^latchkey: --table-prefix must be up to 40 letters, digits or underscores \(got "a-b"\)/)]);
    const env = await cli(["migrate", "--print"], { LATCHKEY_TABLE_PREFIX: "a;b", LATCHKEY_DATABASE_URL: "" });
    expect([env.code, env.stdout]).toEqual([2, ""]);
    expect(env.stderr).toMatch(/^latchkey: LATCHKEY_TABLE_PREFIX must be up to 40 letters, digits or underscores \(got "a;b"\)/);
  });

  it("prints the whole schema, or the upgrade from a version, without a database", async () => {
    const noDatabase = { LATCHKEY_DATABASE_URL: "" };
    const whole = await cli(["migrate", "--print", "--table-prefix", "acme_"], noDatabase);
    expect(whole.code).toBe(0);
    expect(whole.stdout).toBe(schemaSql("acme_"));
    expect(whole.stdout).toMatch(/CREATE TABLE IF NOT EXISTS `acme_sessions`/);
    expect(whole.stdout).toMatch(/INSERT IGNORE INTO `acme_schema_version`/);

    const upgrade = await cli(["migrate", "--print", "--from", "1"], { ...noDatabase, LATCHKEY_TABLE_PREFIX: "acme_" });
    expect(upgrade.code).toBe(0);
    expect(upgrade.stdout).toBe(schemaSql("acme_", 1));
    for (const statement of (MIGRATIONS[1]?.statements("acme_") ?? [])) expect(upgrade.stdout).toContain(`${statement};`);
    for (const statement of (MIGRATIONS[0]?.statements("acme_") ?? [])) expect(upgrade.stdout).not.toContain(statement);
    expect(upgrade.stdout).not.toContain(schemaVersionTable("acme_"));
    expect(upgrade.stdout).toMatch(/ALTER TABLE `acme_sessions`/);
    expect(upgrade.stdout).toMatch(/VALUES \(2, 0\);\n$/);
    expect(upgrade.stdout).not.toMatch(/VALUES \(1, 0\)/);

    const current = await cli(["migrate", "--print", "--from", String(SCHEMA_VERSION)], noDatabase);
    expect([current.code, current.stdout]).toEqual([0, `-- The schema is at version ${SCHEMA_VERSION} already: nothing to apply.\n`]);
    const future = await cli(["migrate", "--print", "--from", String(SCHEMA_VERSION + 1)], noDatabase);
    expect([future.code, future.stderr]).toEqual([2, expect.stringMatching(/--from must be a whole number from 0 to 2/)]);
    const alone = await cli(["migrate", "--from", "1"]);
    expect([alone.code, alone.stderr]).toEqual([2, expect.stringMatching(/--from goes with --print/)]);
  });

  it("migrates idempotently", async () => {
    const prefix = stores.newPrefix();
    for (let i = 0; i < 2; i++) {
      const applied = await cli(["migrate", "--table-prefix", prefix]);
      expect([applied.code, applied.stdout]).toEqual([0, `Schema with prefix "${prefix}" is at version ${SCHEMA_VERSION}.\n`]);
    }
    const json = await cli(["migrate", "--json", "--table-prefix", prefix]);
    expect(JSON.parse(json.stdout)).toEqual({ schemaVersion: SCHEMA_VERSION, tablePrefix: prefix });
    expect(await tablesWith(prefix)).toEqual(TABLES.map((table) => `${prefix}${table}`).sort());
  });

  it("never creates tables, keys or secrets outside migrate: no tables is exit 1, naming the prefix", async () => {
    const prefix = stores.newPrefix();
    const commands = [
      ["sessions", "list", "u"],
      ["sessions", "revoke", UNKNOWN_HANDLE],
      ["sessions", "revoke-user", "u"],
      ["cleanup"],
      ["keys", "rotate"],
    ];
    for (const command of commands) {
      const result = await cli([...command, "--table-prefix", prefix]);
      expect(result).toEqual({
        code: 1,
        stdout: "",
        stderr:
          `latchkey: no latchkey tables with prefix "${prefix}" in mysql://root@127.0.0.1:3306/test: ` +
          "create them with `npx latchkey migrate` (or apply the SQL of `npx latchkey migrate --print`).\n",
      });
    }
    expect(await tablesWith(prefix)).toEqual([]);

    // On a schema without keys or secrets yet, reads and revokes add none; only keys rotate does.
    expect((await cli(["migrate", "--table-prefix", prefix])).code).toBe(0);
    const codes = [];
    for (const command of commands.slice(0, 4)) codes.push((await cli([...command, "--table-prefix", prefix])).code);
    expect(codes).toEqual([0, 3, 3, 0]);
    expect([await count(`${prefix}signing_keys`), await count(`${prefix}secrets`)]).toEqual([0, 0]);
    expect((await cli(["keys", "rotate", "--table-prefix", prefix])).code).toBe(0);
    expect(await count(`${prefix}signing_keys`)).toBeGreaterThan(0);
    expect(await count(`${prefix}secrets`)).toBe(1);
  });

  it("refuses to use a 0.1 (version 1) schema, naming the upgrade, until it is migrated", async () => {
    const prefix = stores.newPrefix();
    await db.query(schemaVersionTable(prefix));
    for (const statement of MIGRATIONS[0]?.statements(prefix) ?? []) await db.query(statement);
    await db.query(`INSERT INTO \`${prefix}schema_version\` (version, applied_at) VALUES (1, ?)`, [Date.now()]);

    for (const command of [["sessions", "list", "u"], ["sessions", "revoke-user", "u"], ["cleanup"]]) {
      const old = await cli([...command, "--table-prefix", prefix]);
      expect([old.code, old.stdout]).toEqual([1, ""]);
      expect(old.stderr).toBe(
        `latchkey: the latchkey tables with prefix "${prefix}" in mysql://root@127.0.0.1:3306/test are at schema version 1, ` +
          `and this latchkey needs version ${SCHEMA_VERSION}: upgrade them with \`npx latchkey migrate\` ` +
          "(or apply the SQL of `npx latchkey migrate --print --from 1`).\n",
      );
    }
    const [columns] = await db.query<RowDataPacket[]>(
      "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = 'lineage_hash'",
      [`${prefix}sessions`],
    );
    expect(columns).toEqual([]); // no DDL ran

    // The printed upgrade, applied by hand, is what the reads need; migrate then has nothing to do.
    const upgrade = await cli(["migrate", "--print", "--from", "1", "--table-prefix", prefix], { LATCHKEY_DATABASE_URL: "" });
    await db.query(upgrade.stdout);
    expect(await cli(["sessions", "list", "u", "--table-prefix", prefix])).toEqual({ code: 0, stdout: "No live sessions for u.\n", stderr: "" });
    const migrated = await cli(["migrate", "--table-prefix", prefix]);
    expect([migrated.code, migrated.stdout]).toEqual([0, `Schema with prefix "${prefix}" is at version ${SCHEMA_VERSION}.\n`]);
  });

  it("honours LATCHKEY_TABLE_PREFIX as the library does (--table-prefix overrides it)", async () => {
    const prefix = stores.newPrefix();
    const store = stores.create(prefix);
    const { app } = createApp({ store });
    const first = await login(app, "env-user");
    const second = await login(app, "env-user");

    // Another prefix (the bug: "Revoked 0" while the user stayed signed in) fails, and revokes nothing.
    const elsewhere = await cli(["sessions", "revoke-user", "env-user"], { LATCHKEY_TABLE_PREFIX: stores.newPrefix() });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/no latchkey tables with prefix/);

    const listed = await cli(["sessions", "list", "env-user", "--json"], { LATCHKEY_TABLE_PREFIX: prefix });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).sessions.map((s: { handle: string }) => s.handle)).toEqual([first.handle, second.handle]);
    const overridden = await cli(["sessions", "list", "env-user", "--json", "--table-prefix", prefix], { LATCHKEY_TABLE_PREFIX: "nothing_here_" });
    expect(overridden.stdout).toBe(listed.stdout);

    const revoked = await cli(["sessions", "revoke-user", "env-user"], { LATCHKEY_TABLE_PREFIX: prefix });
    expect(revoked).toEqual({ code: 0, stdout: "Revoked 2 session(s) of env-user.\n", stderr: "" });
    expect((await store.findSession(first.handle))?.revokedAt).not.toBeNull();
    expect((await store.findSession(second.handle))?.revokedAt).not.toBeNull();
  });

  it("lists and revokes sessions, by handle and by user; a revoke that revokes nothing exits 3", async () => {
    const prefix = stores.newPrefix();
    const { app } = createApp({ store: stores.create(prefix) });
    const first = await login(app, "cli-user");
    const second = await login(app, "cli-user");

    const listed = await cli(["sessions", "list", "cli-user", "--json", "--table-prefix", prefix]);
    expect(listed.code).toBe(0);
    const { sessions, nextCursor } = JSON.parse(listed.stdout);
    expect(sessions.map((s: { handle: string }) => s.handle)).toEqual([first.handle, second.handle]);
    expect(nextCursor).toBeNull();
    expect(listed.stdout).not.toMatch(/Hash|refresh_token/);

    const revoked = await cli(["sessions", "revoke", first.handle, "--table-prefix", prefix]);
    expect(revoked).toEqual({ code: 0, stdout: `Revoked session ${first.handle}.\n`, stderr: "" });
    const again = await cli(["sessions", "revoke", first.handle, "--table-prefix", prefix]);
    expect(again).toEqual({ code: 3, stdout: "", stderr: `latchkey: no live session ${first.handle}; nothing revoked.\n` });
    const unknown = await cli(["sessions", "revoke", UNKNOWN_HANDLE, "--json", "--table-prefix", prefix]);
    expect([unknown.code, JSON.parse(unknown.stdout)]).toEqual([3, { revoked: false }]);

    const all = await cli(["sessions", "revoke-user", "cli-user", "--json", "--table-prefix", prefix]);
    expect([all.code, JSON.parse(all.stdout)]).toEqual([0, { revoked: [second.handle] }]);
    const nobody = await cli(["sessions", "revoke-user", "cli-user", "--table-prefix", prefix]);
    expect(nobody).toEqual({ code: 3, stdout: "", stderr: "latchkey: cli-user has no live sessions; nothing revoked.\n" });
    const nobodyJson = await cli(["sessions", "revoke-user", "cli-user", "--json", "--table-prefix", prefix]);
    expect([nobodyJson.code, JSON.parse(nobodyJson.stdout)]).toEqual([3, { revoked: [] }]);
    const none = await cli(["sessions", "list", "cli-user", "--table-prefix", prefix]);
    expect(none.stdout).toBe("No live sessions for cli-user.\n");
  });

  describe("sessions list output", () => {
    const prefix = stores.newPrefix();
    let store: SessionStore;
    const created = Date.UTC(2026, 0, 2, 3, 4, 5);
    const expires = Date.UTC(2099, 0, 1);
    const longAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
    beforeAll(async () => {
      store = stores.create(prefix);
      await store.init();
      await store.createSession(sessionRecord(handle(1), "table-user", created, expires, { ip: "203.0.113.7", userAgent: "curl/8.5.0" }));
      await store.createSession(
        sessionRecord(handle(2), "table-user", created + 86_400_000, expires, {
          lastRefreshedAt: created + 90_000_000,
          ip: "198.51.100.2",
          userAgent: "old agent",
          lastIp: "2001:db8::1",
          lastUserAgent: longAgent,
        }),
      );
      await store.createSession(sessionRecord(handle(3), "table-user", created + 2 * 86_400_000, expires, { userAgent: "evil\u001b[2Jagent" }));
      await store.createSession(sessionRecord(handle(4), "table-user", created, created + 1000)); // expired
    });

    const HEADER = "handle                                created               last refreshed        expires               ip           user agent";
    const ROWS = [
      `${handle(1)}  2026-01-02T03:04:05Z  2026-01-02T03:04:05Z  2099-01-01T00:00:00Z  203.0.113.7  curl/8.5.0`,
      `${handle(2)}  2026-01-03T03:04:05Z  2026-01-03T04:04:05Z  2099-01-01T00:00:00Z  2001:db8::1  Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537…`,
      `${handle(3)}  2026-01-04T03:04:05Z  2026-01-04T03:04:05Z  2099-01-01T00:00:00Z  -            evil?[2Jagent`,
    ];

    it("prints an aligned table of the live sessions", async () => {
      const listed = await cli(["sessions", "list", "table-user", "--table-prefix", prefix]);
      expect(listed).toEqual({ code: 0, stdout: [HEADER, ...ROWS].join("\n") + "\n", stderr: "" });
      const lines = listed.stdout.trimEnd().split("\n");
      const starts = ["handle", "created", "last refreshed", "expires", "ip", "user agent"].map((name) => HEADER.indexOf(name));
      expect(starts).toEqual([0, 38, 60, 82, 104, 117]);
      for (const line of lines.slice(1)) {
        for (const start of starts.slice(1)) expect([line[start - 2], line[start - 1], line[start]]).toEqual([" ", " ", expect.stringMatching(/\S/)]);
      }
    });

    it("pages with --limit and --cursor, printing the next cursor", async () => {
      const first = await cli(["sessions", "list", "table-user", "--limit", "2", "--table-prefix", prefix]);
      const cursor = `${created + 86_400_000}.${handle(2)}`;
      expect(first).toEqual({ code: 0, stdout: [HEADER, ROWS[0], ROWS[1], `Next cursor: ${cursor}`].join("\n") + "\n", stderr: "" });
      const second = await cli(["sessions", "list", "table-user", "--limit", "2", "--cursor", cursor, "--table-prefix", prefix]);
      // Each page is aligned on its own: this one's ip column is narrower.
      expect(second.stdout).toBe(
        "handle                                created               last refreshed        expires               ip  user agent\n" +
          `${handle(3)}  2026-01-04T03:04:05Z  2026-01-04T03:04:05Z  2099-01-01T00:00:00Z  -   evil?[2Jagent\n`,
      );
      const bad = await cli(["sessions", "list", "table-user", "--cursor", "nope", "--table-prefix", prefix]);
      expect([bad.code, bad.stderr]).toEqual([2, expect.stringMatching(/cursor must be the nextCursor of a previous page/)]);
    });

    it("prints the sessions and the next cursor as JSON with --json", async () => {
      const page = await cli(["sessions", "list", "table-user", "--json", "--limit", "2", "--table-prefix", prefix]);
      expect(page.code).toBe(0);
      const parsed = JSON.parse(page.stdout);
      expect(Object.keys(parsed)).toEqual(["sessions", "nextCursor"]);
      expect(parsed.nextCursor).toBe(`${created + 86_400_000}.${handle(2)}`);
      expect(parsed.sessions[1]).toEqual({
        handle: handle(2),
        userId: "table-user",
        createdAt: created + 86_400_000,
        lastRefreshedAt: created + 90_000_000,
        authTime: created + 86_400_000,
        expiresAt: expires,
        absoluteExpiresAt: expires,
        persistent: true,
        ip: "198.51.100.2",
        userAgent: "old agent",
        lastIp: "2001:db8::1",
        lastUserAgent: longAgent,
        current: false,
      });
      const all = JSON.parse((await cli(["sessions", "list", "table-user", "--json", "--table-prefix", prefix])).stdout);
      expect([all.sessions.map((s: { handle: string }) => s.handle), all.nextCursor]).toEqual([[handle(1), handle(2), handle(3)], null]);
    });
  });

  it("cleans up expired sessions in batches with progress, and rotates keys", async () => {
    const prefix = stores.newPrefix();
    const store = stores.create(prefix);
    const { app } = createApp({ store });
    const live = await login(app, "keeper");
    const past = Date.now() - 1000;
    for (let i = 0; i < 2500; i += 250) {
      await Promise.all(
        Array.from({ length: 250 }, (_, j) => store.createSession(sessionRecord(handle(i + j), "gone", past - 10_000, past))),
      );
    }
    const cleaned = await cli(["cleanup", "--table-prefix", prefix]);
    expect(cleaned.code).toBe(0);
    expect(cleaned.stderr).toMatch(/deleted 1000 expired sessions\.\.\.\ndeleted 2000 expired sessions\.\.\.\ndeleted 2500 expired sessions\.\.\./);
    expect(cleaned.stdout).toBe("Deleted 2500 expired session(s) and 0 retired signing key(s).\n");
    expect(await store.findSession(live.handle)).not.toBeNull();
    const again = await cli(["cleanup", "--json", "--table-prefix", prefix]);
    expect(again).toEqual({ code: 0, stdout: `${JSON.stringify({ sessions: 0, keys: 0 }, null, 2)}\n`, stderr: "" });

    const rotated = await cli(["keys", "rotate", "--json", "--table-prefix", prefix]);
    expect(rotated.code).toBe(0);
    const { kid, signsFrom } = JSON.parse(rotated.stdout);
    expect(signsFrom).toBeGreaterThan(Date.now());
    expect((await store.listSigningKeys()).map((key) => key.kid)).toContain(kid);
    const text = await cli(["keys", "rotate", "--table-prefix", prefix]);
    expect(text.stdout).toMatch(/^Published signing key \S+; it signs from \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\.\n$/);
  });
});
