import { execFile } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import mysql, { type RowDataPacket } from "mysql2/promise";
import type { SigningKeyRecord } from "../lib/store/store";
import { DATABASE_URL, StoreFactory } from "./helpers";

// Issue 22 item 7: `keys list`, run as users run it (the built CLI, a process per call).
const run = promisify(execFile);
const CLI = path.resolve(__dirname, "../dist/cli.js");
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

jest.setTimeout(60_000);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, LATCHKEY_DATABASE_URL: DATABASE_URL, LATCHKEY_TABLE_PREFIX: undefined },
      timeout: 15_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const PEM = {
  publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
  privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
};

function key(kid: string, signsFrom: number, signsUntil: number): SigningKeyRecord {
  return { kid, algorithm: "ES256", ...PEM, createdAt: signsFrom - MINUTE, signsFrom, signsUntil };
}

// Whole seconds, so that the table's times (to the second) are exact.
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

describe("npx latchkey keys list", () => {
  const stores = new StoreFactory("mysql");
  let db: mysql.Connection;
  beforeAll(async () => {
    db = await mysql.createConnection({ uri: DATABASE_URL });
  });
  afterAll(async () => {
    await db.end();
    await stores.cleanup();
  });

  async function count(table: string): Promise<number> {
    const [rows] = await db.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\``);
    return Number(rows[0]?.n);
  }

  /** A migrated schema holding `keys`, through the store (as instances write them). */
  async function schemaWith(keys: SigningKeyRecord[]): Promise<string> {
    const prefix = stores.newPrefix();
    expect((await cli(["migrate", "--table-prefix", prefix])).code).toBe(0);
    const store = stores.create(prefix);
    for (const record of keys) await store.insertSigningKey(record);
    return prefix;
  }

  it("shows every key oldest first: the one that signs now, the one published ahead, a superseded and a retired one; never a key itself", async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const keys = [
      key("es256-ahead-xxxxxxxx", now + 10 * MINUTE, now + 6 * DAY),
      key("es256-slot-xxxxxxxx", now - DAY, now + 6 * DAY),
      key("es256-old-xxxxxxxx", now - 14 * DAY, now - 7 * DAY),
      key("es256-rotated-xxxxxxxx", now - 60 * MINUTE, now + 6 * DAY),
    ];
    const prefix = await schemaWith(keys);

    const text = await cli(["keys", "list", "--table-prefix", prefix]);
    expect(text).toEqual({
      code: 0,
      stderr: "",
      stdout: [
        "kid                     algorithm  signs from            signs until           status",
        `es256-old-xxxxxxxx      ES256      ${iso(now - 14 * DAY)}  ${iso(now - 7 * DAY)}  retired (verifies until its tokens expire)`,
        `es256-slot-xxxxxxxx     ES256      ${iso(now - DAY)}  ${iso(now + 6 * DAY)}  superseded (verifies)`,
        `es256-rotated-xxxxxxxx  ES256      ${iso(now - 60 * MINUTE)}  ${iso(now + 6 * DAY)}  signs now`,
        `es256-ahead-xxxxxxxx    ES256      ${iso(now + 10 * MINUTE)}  ${iso(now + 6 * DAY)}  published ahead`,
        `Next: es256-ahead-xxxxxxxx signs from ${iso(now + 10 * MINUTE)}.`,
        "",
      ].join("\n"),
    });

    const json = await cli(["keys", "list", "--json", "--table-prefix", prefix]);
    expect(json.code).toBe(0);
    const listed = (kid: string, status: string) => {
      const { algorithm, createdAt, signsFrom, signsUntil } = keys.find((k) => k.kid === kid) as SigningKeyRecord;
      return { kid, algorithm, createdAt, signsFrom, signsUntil, status };
    };
    expect(JSON.parse(json.stdout)).toEqual({
      keys: [
        listed("es256-old-xxxxxxxx", "retired"),
        listed("es256-slot-xxxxxxxx", "superseded"),
        listed("es256-rotated-xxxxxxxx", "signing"),
        listed("es256-ahead-xxxxxxxx", "ahead"),
      ],
      signing: "es256-rotated-xxxxxxxx",
    });
    for (const output of [text.stdout, json.stdout]) expect(output).not.toMatch(/BEGIN|PRIVATE|KEY-----|privateKey|publicKey/);
  });

  it("after two keys rotate calls shows both published ahead and which key signs until they start", async () => {
    const prefix = await schemaWith([]);
    const first = JSON.parse((await cli(["keys", "rotate", "--json", "--table-prefix", prefix])).stdout) as { kid: string; signsFrom: number };
    const second = JSON.parse((await cli(["keys", "rotate", "--json", "--table-prefix", prefix])).stdout) as { kid: string; signsFrom: number };
    const listed = JSON.parse((await cli(["keys", "list", "--json", "--table-prefix", prefix])).stdout) as {
      keys: { kid: string; status: string; signsFrom: number }[];
      signing: string;
    };
    // The first rotate also created the slot's key (as a starting instance would): it signs until the rotated keys start.
    expect(listed.keys.map((k) => [k.kid, k.status])).toEqual([
      [listed.signing, "signing"],
      [first.kid, "ahead"],
      [second.kid, "ahead"],
    ]);
    expect(listed.keys.slice(1).map((k) => k.signsFrom)).toEqual([first.signsFrom, second.signsFrom]);
  });

  it("creates nothing: no tables is exit 1, and a schema without keys stays without keys or secret", async () => {
    const bare = stores.newPrefix();
    const missing = await cli(["keys", "list", "--table-prefix", bare]);
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toMatch(/^latchkey: no latchkey tables with prefix "[^"]+" in mysql:\/\/root@127\.0\.0\.1:3306\/test/);

    const prefix = await schemaWith([]);
    expect(await cli(["keys", "list", "--table-prefix", prefix])).toEqual({
      code: 0,
      stdout: "No signing keys yet: the first instance to start creates them (or run `latchkey keys rotate`).\n",
      stderr: "",
    });
    expect(JSON.parse((await cli(["keys", "list", "--json", "--table-prefix", prefix])).stdout)).toEqual({ keys: [], signing: null });
    expect([await count(`${prefix}signing_keys`), await count(`${prefix}secrets`)]).toEqual([0, 0]);
  });

  it("when no key's window covers now (no instance ran at the slot's start), names the key that still signs", async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const prefix = await schemaWith([key("es256-lapsed-xxxxxxxx", now - 8 * DAY, now - 60 * MINUTE), key("es256-older-xxxxxxxx", now - 15 * DAY, now - 8 * DAY)]);
    const text = await cli(["keys", "list", "--table-prefix", prefix]);
    expect(text.stdout.split("\n").slice(1)).toEqual([
      `es256-older-xxxxxxxx   ES256      ${iso(now - 15 * DAY)}  ${iso(now - 8 * DAY)}  retired (verifies until its tokens expire)`,
      `es256-lapsed-xxxxxxxx  ES256      ${iso(now - 8 * DAY)}  ${iso(now - 60 * MINUTE)}  signs now`,
      "No key's window covers now: es256-lapsed-xxxxxxxx signs until an instance loads the keys and creates this slot's key.",
      "",
    ]);
  });
});
