import mysql from "mysql2/promise";
import { mysqlStore, SCHEMA_VERSION, type SessionRecord, type SessionStore, type SessionUpdate } from "../../lib";
import { MIGRATIONS, schemaVersionTable } from "../../lib/store/schema";
import { DATABASE_URL } from "../helpers";
import { NOW, DAY, metadata, type Conformance } from "./fixtures";

/** init creates the schema idempotently; on MySQL, the schema versions, migrations and `migrate: false`. */
export function schemaConformance({ stores, record, key, open, sharedStores, track }: Conformance): void {
  describe("init", () => {
    it("is idempotent: run twice, and by three stores on one schema at once, it keeps what is stored", async () => {
      const shared = sharedStores(3);
      const [a, b, c] = shared as [SessionStore, SessionStore, SessionStore];
      await Promise.all(shared.map((store) => store.init()));
      const row = record();
      await a.createSession(row);
      await a.insertSigningKey(key("k1"));
      await a.getOrCreateSecret("s", Buffer.alloc(32, 7));
      await a.invalidateClaim("user-1", "st-role", NOW);

      await a.init();
      await Promise.all([b.init(), c.init()]);

      expect(await c.findSession(row.handle)).toEqual(row);
      expect(await b.listSigningKeys()).toEqual([key("k1")]);
      expect(await c.getOrCreateSecret("s", Buffer.alloc(32, 8))).toEqual(Buffer.alloc(32, 7));
      expect(await b.listClaimInvalidationsSince(0)).toEqual([{ userId: "user-1", key: "st-role", invalidatedAt: NOW }]);
    });
  });

  // The schema, its versions and `migrate: false` exist only where there are tables.
  if (stores.kind === "mysql") {
    describe("schema migration (MySQL only: the memory store has no schema)", () => {
      function migrateFalseStore(prefix: string): SessionStore {
        const store = mysqlStore(DATABASE_URL, { tablePrefix: prefix, migrate: false });
        track(store);
        return store;
      }

      it("leaves schema_version at the latest version after init", async () => {
        const prefix = stores.newPrefix();
        await open(prefix).init();
        const versions = await query<{ version: number }>(`SELECT version FROM \`${prefix}schema_version\` ORDER BY version`);
        expect(versions.map((row) => Number(row.version))).toEqual(MIGRATIONS.map((m) => m.version));
        expect(Math.max(...versions.map((row) => Number(row.version)))).toBe(SCHEMA_VERSION);
        expect(await tablesOf(prefix)).toEqual(["claim_invalidations", "schema_version", "secrets", "sessions", "signing_keys"]);
      });

      it("with migrate: false on an empty prefix, rejects saying how to migrate, and creates no table", async () => {
        const prefix = stores.newPrefix();
        const store = migrateFalseStore(prefix);
        const failure = (await store.init().then(
          () => null,
          (error: unknown) => error,
        )) as (Error & { code?: unknown }) | null;
        expect(failure).toBeInstanceOf(Error);
        expect(failure?.code).toBe("LATCHKEY_SCHEMA_NOT_READY");
        expect(failure?.message).toContain("npx latchkey migrate");
        expect(await tablesOf(prefix)).toEqual([]);
        // Asking again changes nothing either.
        await expect(store.init()).rejects.toMatchObject({ code: "LATCHKEY_SCHEMA_NOT_READY" });
        expect(await tablesOf(prefix)).toEqual([]);
      });

      it("with migrate: false on a prefix another store migrated, works", async () => {
        const prefix = stores.newPrefix();
        await open(prefix).init();
        const store = migrateFalseStore(prefix);
        await store.init();
        const row = record({ userId: "no-ddl" });
        expect(await store.createSession(row)).toEqual([]);
        expect(await store.findSession(row.handle)).toEqual(row);
        await store.invalidateClaim("no-ddl", "role", NOW);
        expect(await store.listClaimInvalidationsSince(NOW)).toEqual([{ userId: "no-ddl", key: "role", invalidatedAt: NOW }]);
      });

      it("with migrate: false on a version 1 schema, rejects naming the version and adds no column", async () => {
        const prefix = stores.newPrefix();
        await createV1Schema(prefix);
        const store = migrateFalseStore(prefix);
        const failure = (await store.init().then(
          () => null,
          (error: unknown) => error,
        )) as (Error & { code?: unknown }) | null;
        expect(failure?.code).toBe("LATCHKEY_SCHEMA_NOT_READY");
        expect(failure?.message).toContain("npx latchkey migrate");
        expect(failure?.message).toContain("version 1");
        expect(await tablesOf(prefix)).toEqual(["schema_version", "secrets", "sessions", "signing_keys"]);
        expect(await columnsOf(`${prefix}sessions`)).not.toContain("lineage_hash");
      });

      it("upgrades a version 1 schema (also from three stores at once), keeping its rows readable with the new columns defaulted", async () => {
        const prefix = stores.newPrefix();
        await createV1Schema(prefix);
        const v1 = {
          handle: "00000000-0000-4000-8000-v1000000full",
          userId: "v1-user ü",
          refreshTokenHash: Buffer.alloc(32, 0x11),
          prevRefreshTokenHash: Buffer.alloc(32, 0x22),
          rotatedAt: NOW - 4_000,
          accessTokenPayload: { role: "legacy" },
          sessionData: { plan: "old" },
          createdAt: NOW - 9_000,
          lastRefreshedAt: NOW - 4_000,
          expiresAt: NOW + DAY,
          absoluteExpiresAt: NOW + 3 * DAY,
          revokedAt: null,
          ip: "192.0.2.1",
          userAgent: "Safari/17",
        };
        const sparseV1 = {
          ...v1,
          handle: "00000000-0000-4000-8000-v100000sparse",
          prevRefreshTokenHash: null,
          rotatedAt: null,
          createdAt: NOW - 8_000,
          revokedAt: NOW - 100,
          ip: null,
          userAgent: null,
        };
        await query(`INSERT INTO \`${prefix}sessions\` (${V1_COLUMNS.join(", ")}) VALUES (${V1_COLUMNS.map(() => "?").join(", ")})`, v1Row(v1));
        await query(`INSERT INTO \`${prefix}sessions\` (${V1_COLUMNS.join(", ")}) VALUES (${V1_COLUMNS.map(() => "?").join(", ")})`, v1Row(sparseV1));
        const oldKey = key("v1-key");
        await query(
          `INSERT INTO \`${prefix}signing_keys\` (kid, algorithm, public_key, private_key, created_at, signs_from, signs_until) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [oldKey.kid, oldKey.algorithm, oldKey.publicKey, oldKey.privateKey, oldKey.createdAt, oldKey.signsFrom, oldKey.signsUntil],
        );
        await query(`INSERT INTO \`${prefix}secrets\` (name, value, created_at) VALUES (?, ?, ?)`, ["s", Buffer.alloc(32, 0x33), NOW]);

        const shared = [open(prefix), open(prefix), open(prefix)];
        await Promise.all(shared.map((store) => store.init()));
        const store = shared[0] as SessionStore;

        const versions = await query<{ version: number }>(`SELECT version FROM \`${prefix}schema_version\` ORDER BY version`);
        expect(versions.map((row) => Number(row.version))).toEqual(MIGRATIONS.map((m) => m.version));
        const defaults = { lineageHash: null, undelivered: false, idleTtl: null, persistent: true, lastIp: null, lastUserAgent: null };
        const upgraded: SessionRecord = { ...v1, ...defaults, authTime: v1.createdAt };
        const upgradedSparse: SessionRecord = { ...sparseV1, ...defaults, authTime: sparseV1.createdAt };
        expect(await store.findSession(v1.handle)).toEqual(upgraded);
        expect(await store.findSession(sparseV1.handle)).toEqual(upgradedSparse);
        expect(await store.listForUser(v1.userId, NOW, { limit: 10 })).toEqual([metadata(upgraded)]);
        expect(await store.listSigningKeys()).toEqual([oldKey]);
        expect(await store.getOrCreateSecret("s", Buffer.alloc(32, 0x44))).toEqual(Buffer.alloc(32, 0x33));

        // The new columns work on the upgraded table, for old rows and new ones.
        const update: SessionUpdate = { lineageHash: Buffer.alloc(32, 0x55), undelivered: true, authTime: NOW, lastIp: "192.0.2.9", lastUserAgent: "Edge/130" };
        await store.updateSession(v1.handle, () => ({ update, result: null }));
        expect(await store.findSession(v1.handle)).toEqual({ ...upgraded, ...update });
        const fresh = record({ userId: v1.userId, idleTtl: 60_000, persistent: false });
        await store.createSession(fresh);
        expect(await store.findSession(fresh.handle)).toEqual(fresh);
        await store.invalidateClaim(v1.userId, "role", NOW);
        expect((await store.findSession(v1.handle))?.accessTokenPayload).toEqual({});
      });
    });
  }
}

/** One statement on a connection of its own, outside any store. */
async function query<T = unknown>(sql: string, params: unknown[] = []): Promise<T[]> {
  const connection = await mysql.createConnection({ uri: DATABASE_URL });
  try {
    const [rows] = await connection.query(sql, params);
    return rows as T[];
  } finally {
    await connection.end();
  }
}

/** The tables of this prefix (without it), by name. */
async function tablesOf(prefix: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND LEFT(table_name, ?) = ? ORDER BY table_name`,
    [prefix.length, prefix],
  );
  return rows.map((row) => String(row.name).slice(prefix.length));
}

async function columnsOf(table: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?`,
    [table],
  );
  return rows.map((row) => String(row.name));
}

/** Tables as a latchkey 0.1 install left them: migration 1 only, schema version 1. */
async function createV1Schema(prefix: string): Promise<void> {
  await query(schemaVersionTable(prefix));
  for (const statement of (MIGRATIONS[0] as (typeof MIGRATIONS)[number]).statements(prefix)) await query(statement);
  await query(`INSERT INTO \`${prefix}schema_version\` (version, applied_at) VALUES (1, ?)`, [NOW - DAY]);
}

const V1_COLUMNS = [
  "session_handle",
  "user_id",
  "refresh_token_hash",
  "prev_refresh_token_hash",
  "rotated_at",
  "access_token_payload",
  "session_data",
  "created_at",
  "last_refreshed_at",
  "expires_at",
  "absolute_expires_at",
  "revoked_at",
  "ip",
  "user_agent",
];

interface V1Session {
  handle: string;
  userId: string;
  refreshTokenHash: Buffer;
  prevRefreshTokenHash: Buffer | null;
  rotatedAt: number | null;
  accessTokenPayload: Record<string, unknown>;
  sessionData: Record<string, unknown>;
  createdAt: number;
  lastRefreshedAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | null;
  ip: string | null;
  userAgent: string | null;
}

function v1Row(s: V1Session): unknown[] {
  return [
    s.handle,
    Buffer.from(s.userId, "utf8"),
    s.refreshTokenHash,
    s.prevRefreshTokenHash,
    s.rotatedAt,
    JSON.stringify(s.accessTokenPayload),
    JSON.stringify(s.sessionData),
    s.createdAt,
    s.lastRefreshedAt,
    s.expiresAt,
    s.absoluteExpiresAt,
    s.revokedAt,
    s.ip,
    s.userAgent,
  ];
}
