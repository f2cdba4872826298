import { createCipheriv, createHash, pbkdf2Sync, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import mysql from "mysql2/promise";
import { DATABASE_URL } from "../helpers";

/**
 * The SuperTokens core's tables (reference B.1, plugin 8.1.4 DDL without the foreign keys to
 * apps/tenants, which only the core's own tables need) under a prefix of the test's, seeded
 * from the fixtures a real core 10.1.8 produced (spec/fixtures/supertokens-core/).
 */
const FIXTURES = path.join(__dirname, "..", "fixtures", "supertokens-core");
export const flows = JSON.parse(readFileSync(path.join(FIXTURES, "flows.json"), "utf8"));
export const snapshot = JSON.parse(readFileSync(path.join(FIXTURES, "db-snapshot.json"), "utf8"));

export type CoreVersion = "10.1" | "4.x" | "12.1";

export interface CoreRowSeed {
  session_handle: string;
  user_id: string;
  refresh_token_hash_2: string;
  session_data: string | null;
  expires_at: number;
  created_at_time: number;
  jwt_user_payload: string | null;
  use_static_key?: number;
  prev_refresh_token_hash_2?: string | null;
  refresh_token_rotated_at?: number | null;
}

export const MASTER_KEY: string = snapshot.key_value.find((row: { name: string }) => row.name === "refresh_token_key").value;

/** The rows of `cookieLegacyRotationAndTheft`, and its tokens. */
export const cookieFlow = {
  loginRow: flows.cookieLegacyRotationAndTheft.steps[0].row as CoreRowSeed,
  promotedRow: flows.cookieLegacyRotationAndTheft.steps[4].row as CoreRowSeed,
  RT0: flows.cookieLegacyRotationAndTheft.steps[0].response.refreshToken as string,
  RT1: flows.cookieLegacyRotationAndTheft.steps[2].response.refreshToken as string,
  RT1b: flows.cookieLegacyRotationAndTheft.steps[3].response.refreshToken as string,
  AT0: flows.cookieLegacyRotationAndTheft.steps[0].response.accessToken as string,
  antiCsrf0: flows.cookieLegacyRotationAndTheft.steps[0].response.headers["anti-csrf"] as string,
};

export class CoreDatabase {
  readonly prefix: string;
  readonly version: CoreVersion;
  #connection: mysql.Connection | undefined;

  constructor(prefix: string, version: CoreVersion = "10.1") {
    this.prefix = prefix;
    this.version = version;
  }

  async connection(): Promise<mysql.Connection> {
    this.#connection ??= await mysql.createConnection({ uri: DATABASE_URL });
    return this.#connection;
  }

  table(name: string): string {
    return `\`${this.prefix}${name}\``;
  }

  /** Creates the core's tables as that core version had them, and seeds the keys and refresh_token_key. */
  async create(): Promise<void> {
    const db = await this.connection();
    const tenants = this.version !== "4.x";
    const app = tenants ? "app_id VARCHAR(64) NOT NULL DEFAULT 'public', " : "";
    const tenant = tenants ? "tenant_id VARCHAR(64) NOT NULL DEFAULT 'public', " : "";
    await db.query(`CREATE TABLE ${this.table("session_info")} (${app}${tenant}
      session_handle VARCHAR(255) NOT NULL, user_id VARCHAR(128) NOT NULL, refresh_token_hash_2 VARCHAR(128) NOT NULL,
      session_data TEXT, expires_at BIGINT UNSIGNED NOT NULL, created_at_time BIGINT UNSIGNED NOT NULL, jwt_user_payload TEXT
      ${tenants ? ", use_static_key TINYINT(1) NOT NULL" : ""}
      ${this.version === "12.1" ? ", prev_refresh_token_hash_2 VARCHAR(128), refresh_token_rotated_at BIGINT" : ""},
      PRIMARY KEY (${tenants ? "app_id, tenant_id, " : ""}session_handle))`);
    await db.query(`CREATE TABLE ${this.table("key_value")} (${app}${tenant}name VARCHAR(128) NOT NULL, value TEXT, created_at_time BIGINT UNSIGNED,
      PRIMARY KEY (${tenants ? "app_id, tenant_id, " : ""}name))`);
    await db.query(`CREATE TABLE ${this.table("session_access_token_signing_keys")} (${app}created_at_time BIGINT UNSIGNED NOT NULL, value TEXT,
      PRIMARY KEY (${tenants ? "app_id, " : ""}created_at_time))`);
    await db.query(`CREATE TABLE ${this.table("jwt_signing_keys")} (${app}key_id VARCHAR(255) NOT NULL, key_string TEXT NOT NULL,
      algorithm VARCHAR(10) NOT NULL, created_at BIGINT UNSIGNED, PRIMARY KEY (${tenants ? "app_id, " : ""}key_id))`);
    for (const row of snapshot.key_value) {
      await db.query(`INSERT INTO ${this.table("key_value")} (name, value, created_at_time) VALUES (?, ?, ?)`, [row.name, row.value, row.created_at_time]);
    }
    for (const row of snapshot.session_access_token_signing_keys) {
      await db.query(`INSERT INTO ${this.table("session_access_token_signing_keys")} (created_at_time, value) VALUES (?, ?)`, [row.created_at_time, row.value]);
    }
    for (const row of snapshot.jwt_signing_keys) {
      await db.query(`INSERT INTO ${this.table("jwt_signing_keys")} (key_id, key_string, algorithm, created_at) VALUES (?, ?, ?, ?)`, [
        row.key_id,
        row.key_string,
        row.algorithm,
        row.created_at,
      ]);
    }
  }

  /** Replaces the session row of its handle. */
  async seed(row: CoreRowSeed, changes: Partial<CoreRowSeed> = {}): Promise<void> {
    const db = await this.connection();
    const values: Record<string, unknown> = { ...row, ...changes };
    delete values.app_id;
    delete values.tenant_id;
    if (this.version === "4.x") delete values.use_static_key;
    else values.use_static_key ??= 0;
    if (this.version !== "12.1") {
      delete values.prev_refresh_token_hash_2;
      delete values.refresh_token_rotated_at;
    }
    await db.query(`DELETE FROM ${this.table("session_info")} WHERE session_handle = ?`, [row.session_handle]);
    const columns = Object.keys(values);
    await db.query(`INSERT INTO ${this.table("session_info")} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, Object.values(values));
  }

  async row(handle: string): Promise<Record<string, unknown> | undefined> {
    const db = await this.connection();
    const [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT * FROM ${this.table("session_info")} WHERE session_handle = ?`, [handle]);
    return rows[0];
  }

  /** Fingerprint of the key tables, to prove latchkey never writes them. */
  async keyTables(): Promise<string> {
    const db = await this.connection();
    const parts: unknown[] = [];
    for (const name of ["key_value", "session_access_token_signing_keys", "jwt_signing_keys"]) {
      const [rows] = await db.query(`SELECT * FROM ${this.table(name)} ORDER BY 1, 2`);
      parts.push(rows);
    }
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
  }

  async drop(): Promise<void> {
    const db = await this.connection();
    for (const name of ["session_info", "key_value", "session_access_token_signing_keys", "jwt_signing_keys"]) {
      await db.query(`DROP TABLE IF EXISTS ${this.table(name)}`);
    }
    await db.end();
    this.#connection = undefined;
  }
}

/** sha256hex, the core's hash. */
export function sha256hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** hash2 of a core refresh token, as session_info stores it. */
export function hash2(token: string): string {
  return sha256hex(sha256hex(token));
}

/**
 * A core refresh token made as the core makes one (for cases no fixture holds: another
 * tenant). Test-only: latchkey itself never makes core tokens.
 */
export function coreRefreshToken(payload: Record<string, unknown>): string {
  const nonce = sha256hex(randomBytes(16).toString("hex"));
  const iv = randomBytes(12);
  const key = pbkdf2Sync(MASTER_KEY, iv, 100, 32, "sha512");
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const sealed = Buffer.concat([cipher.update(JSON.stringify({ ...payload, nonce }), "utf8"), cipher.final()]);
  return `${Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString("base64")}.${nonce}.V2`;
}

/** Every access token the fixtures hold, with its handle (for a pinned clock: each one's own creation). */
export function fixtureAccessTokens(): { name: string; token: string; iat: number }[] {
  const found: { name: string; token: string; iat: number }[] = [];
  const visit = (value: unknown, name: string): void => {
    if (typeof value === "string") {
      if (/^eyJ[^.]+\.[^.]+\.[^.]+$/.test(value) && !found.some((entry) => entry.token === value)) {
        const [head, body] = value.split(".") as [string, string];
        const header = JSON.parse(Buffer.from(head, "base64url").toString("utf8"));
        const claims = JSON.parse(Buffer.from(body, "base64").toString("utf8"));
        if (header.typ === "JWT") found.push({ name, token: value, iat: claims.iat ?? Math.floor(claims.timeCreated / 1000) });
      }
      return;
    }
    if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key === "raw" || key === "cookie" || key === "authorization") continue;
        visit(child, `${name}.${key}`);
      }
    }
  };
  visit(flows, "flows");
  return found;
}

/** Every refresh token the fixtures hold (V2 tokens from responses), but the deliberately broken ones. */
export function fixtureRefreshTokens(): { name: string; token: string }[] {
  const found: { name: string; token: string }[] = [];
  const visit = (value: unknown, name: string): void => {
    if (typeof value === "string") {
      if (/^[A-Za-z0-9+/]+={0,2}\.[0-9a-f]{64}\.V2$/.test(value) && !found.some((entry) => entry.token === value)) found.push({ name, token: value });
      return;
    }
    if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key === "request" && /refresh_(tampered|nonce_mismatch)/.test(name)) continue;
        visit(child, `${name}.${key}`);
      }
    }
  };
  visit(flows, "flows");
  return found;
}
