import { createPublicKey, type KeyObject } from "node:crypto";
import type { RowDataPacket } from "mysql2/promise";
import type { MySqlConnector, Statements } from "../../store/mysql-connection";
import type { CoreKeys } from "./access-token";

/**
 * Reads the core's tables (reference B.1) by column name: core < 5.0 has no
 * `use_static_key` (not needed here), < 6.0 no `app_id`/`tenant_id`, 12.1 adds
 * `prev_refresh_token_hash_2` and `refresh_token_rotated_at`. The columns are discovered
 * once from information_schema. Latchkey reads the key tables and never writes them; it
 * writes `session_info` only to delete a row it migrated or found stolen.
 */
export interface CoreSchema {
  sessionInfo: string;
  keyValue: string;
  /** Tables absent from this core version are `undefined`. */
  dynamicKeys: string | undefined;
  staticKeys: string | undefined;
  /** `session_info` has `app_id`/`tenant_id` (core ≥ 6.0). */
  tenants: boolean;
  /** `key_value` has `app_id`/`tenant_id`. */
  keyValueTenants: boolean;
  keyTablesHaveApp: boolean;
  /** `session_info` has the 12.1 rotation columns. */
  rotation: boolean;
}

/** One `session_info` row, in latchkey's terms (hashes as bytes). */
export interface CoreRow {
  handle: string;
  userId: string;
  hash2: Buffer;
  /** 12.1: the hash the last rotation replaced, and when. */
  prevHash2: Buffer | null;
  rotatedAt: number | null;
  sessionData: string | null;
  payload: string | null;
  expiresAt: number;
  createdAt: number;
}

export class CoreTables {
  readonly #db: MySqlConnector;
  readonly #prefix: string;
  #schema: Promise<CoreSchema> | undefined;

  constructor(db: MySqlConnector, prefix: string) {
    // Table names cannot be placeholders: the prefix must be plain (options.ts and the CLI check it first).
    if (!/^[A-Za-z0-9_]{0,40}$/.test(prefix)) throw new TypeError("latchkey: the SuperTokens core's table prefix must be up to 40 letters, digits or underscores.");
    this.#db = db;
    this.#prefix = prefix;
  }

  /** The core's tables and columns, discovered once (a failure is retried at the next call). */
  schema(): Promise<CoreSchema> {
    this.#schema ??= this.#discover().catch((error: unknown) => {
      this.#schema = undefined;
      throw error;
    });
    return this.#schema;
  }

  async #discover(): Promise<CoreSchema> {
    const names = ["session_info", "key_value", "session_access_token_signing_keys", "jwt_signing_keys"].map((name) => this.#prefix + name);
    const rows = await this.#db.run<RowDataPacket[]>(
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?, ?, ?)`,
      names,
    );
    const columns = new Map<string, Set<string>>();
    for (const row of rows) {
      const table = String(row.t);
      if (!columns.has(table)) columns.set(table, new Set());
      columns.get(table)?.add(String(row.c).toLowerCase());
    }
    const [info, keyValue, dynamic, fixed] = names as [string, string, string, string];
    for (const required of [info, keyValue]) {
      if (!columns.has(required)) {
        throw new Error(`the SuperTokens core table ${required} does not exist in this database (check migrateFromSuperTokens.tablePrefix)`);
      }
    }
    const has = (table: string, column: string) => columns.get(table)?.has(column) ?? false;
    return {
      sessionInfo: quote(info),
      keyValue: quote(keyValue),
      dynamicKeys: columns.has(dynamic) ? quote(dynamic) : undefined,
      staticKeys: columns.has(fixed) ? quote(fixed) : undefined,
      tenants: has(info, "tenant_id"),
      keyValueTenants: has(keyValue, "tenant_id"),
      keyTablesHaveApp: has(dynamic, "app_id") || has(fixed, "app_id"),
      rotation: has(info, "prev_refresh_token_hash_2") && has(info, "refresh_token_rotated_at"),
    };
  }

  /** Locks and reads a core session of the public tenant (`FOR UPDATE`, as the plugin does). */
  async lockRow(tx: Statements, schema: CoreSchema, handle: string): Promise<CoreRow | null> {
    const rotation = schema.rotation ? ", prev_refresh_token_hash_2, refresh_token_rotated_at" : "";
    const rows = await tx.execute<RowDataPacket[]>(
      `SELECT session_handle, user_id, refresh_token_hash_2, session_data, expires_at, created_at_time, jwt_user_payload${rotation}
       FROM ${schema.sessionInfo} WHERE ${publicTenant(schema)}session_handle = ? FOR UPDATE`,
      [handle],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      handle: String(row.session_handle),
      userId: String(row.user_id),
      hash2: hexBytes(row.refresh_token_hash_2),
      prevHash2: row.prev_refresh_token_hash_2 ? hexBytes(row.prev_refresh_token_hash_2) : null,
      rotatedAt: row.refresh_token_rotated_at === null || row.refresh_token_rotated_at === undefined ? null : Number(row.refresh_token_rotated_at),
      sessionData: row.session_data === null ? null : String(row.session_data),
      payload: row.jwt_user_payload === null ? null : String(row.jwt_user_payload),
      expiresAt: Number(row.expires_at),
      createdAt: Number(row.created_at_time),
    };
  }

  async deleteRow(tx: Statements, schema: CoreSchema, handle: string): Promise<void> {
    await tx.execute(`DELETE FROM ${schema.sessionInfo} WHERE ${publicTenant(schema)}session_handle = ?`, [handle]);
  }

  /** Whether a core session of the public tenant exists (for `checkDatabase`); no lock. */
  async hasRow(handle: string): Promise<boolean> {
    const schema = await this.schema();
    const rows = await this.#db.run<RowDataPacket[]>(`SELECT 1 FROM ${schema.sessionInfo} WHERE ${publicTenant(schema)}session_handle = ?`, [handle]);
    return rows.length > 0;
  }

  /** `refresh_token_key`: the password of every refresh token's key. A secret; `undefined` when the core never made one. */
  async masterKey(): Promise<string | undefined> {
    const value = await this.#keyValue("refresh_token_key");
    return value ?? undefined;
  }

  /** The public halves of every signing key the core may have used: dynamic, static (RS256), and the pre-2021 single key. */
  async publicKeys(): Promise<CoreKeys> {
    const schema = await this.schema();
    const app = schema.keyTablesHaveApp ? " WHERE app_id = 'public'" : "";
    const byKid = new Map<string, KeyObject>();
    const all: KeyObject[] = [];
    const add = (kid: string | undefined, value: unknown) => {
      const key = publicHalf(value);
      if (!key) return;
      all.push(key);
      if (kid !== undefined) byKid.set(kid, key);
    };
    if (schema.dynamicKeys) {
      for (const row of await this.#db.run<RowDataPacket[]>(`SELECT created_at_time, value FROM ${schema.dynamicKeys}${app}`)) {
        add(`d-${String(row.created_at_time)}`, row.value);
      }
    }
    if (schema.staticKeys) {
      for (const row of await this.#db.run<RowDataPacket[]>(`SELECT key_id, key_string, algorithm FROM ${schema.staticKeys}${app}`)) {
        if (String(row.algorithm).toUpperCase() === "RS256") add(String(row.key_id), row.key_string);
      }
    }
    add(undefined, await this.#keyValue("access_token_signing_key"));
    return { byKid, all };
  }

  /** Core sessions still live at `now` (public tenant), for `npx latchkey supertokens status`. */
  async countLive(now: number): Promise<number> {
    const schema = await this.schema();
    const rows = await this.#db.run<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${schema.sessionInfo} WHERE ${publicTenant(schema)}expires_at >= ?`,
      [now],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async #keyValue(name: string): Promise<string | null> {
    const schema = await this.schema();
    const tenant = schema.keyValueTenants ? "app_id = 'public' AND tenant_id = 'public' AND " : "";
    const rows = await this.#db.run<RowDataPacket[]>(`SELECT value FROM ${schema.keyValue} WHERE ${tenant}name = ?`, [name]);
    const value = rows[0]?.value;
    return value === null || value === undefined ? null : String(value);
  }
}

function quote(table: string): string {
  return `\`${table}\``;
}

function publicTenant(schema: CoreSchema): string {
  return schema.tenants ? "app_id = 'public' AND tenant_id = 'public' AND " : "";
}

function hexBytes(value: unknown): Buffer {
  return Buffer.from(String(value), "hex");
}

// `base64(SPKI DER) + "|" + base64(PKCS#8 DER)` (older rows: ";"). Only the public half is
// ever parsed: latchkey has no use for the core's private keys and never holds them.
function publicHalf(value: unknown): KeyObject | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value);
  const cut = text.search(/[|;]/);
  try {
    return createPublicKey({ key: Buffer.from(cut === -1 ? text : text.slice(0, cut), "base64"), format: "der", type: "spki" });
  } catch {
    return undefined;
  }
}
