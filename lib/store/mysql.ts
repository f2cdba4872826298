import mysql from "mysql2/promise";
import type { Pool, PoolConnection, PoolOptions, RowDataPacket } from "mysql2/promise";
import { MIGRATIONS, schemaVersionTable } from "./schema";
import type {
  Decision,
  ExpiredSession,
  RevokedHandle,
  SessionRecord,
  SessionStore,
  SessionUpdate,
  SigningKeyRecord,
} from "./store";

/** What a MySQL store can be built from: a `mysql://` URI, mysql2 pool options, or a mysql2 pool. */
export type MySqlConnection = string | PoolOptions | Pool | { promise(): Pool };

/** Options for {@link mysqlStore}. */
export interface MySqlStoreOptions {
  /**
   * Prefix of every table name: letters, digits and `_`.
   * @default "latchkey_"
   */
  tablePrefix?: string;
  /**
   * How long one query may take before the store gives up, in milliseconds, so that a
   * database that accepts connections but never answers cannot hang a request.
   * @default 5000
   */
  queryTimeoutMs?: number;
}

const COLUMNS = {
  handle: "session_handle",
  userId: "user_id",
  refreshTokenHash: "refresh_token_hash",
  prevRefreshTokenHash: "prev_refresh_token_hash",
  rotatedAt: "rotated_at",
  accessTokenPayload: "access_token_payload",
  sessionData: "session_data",
  createdAt: "created_at",
  lastRefreshedAt: "last_refreshed_at",
  expiresAt: "expires_at",
  absoluteExpiresAt: "absolute_expires_at",
  revokedAt: "revoked_at",
  ip: "ip",
  userAgent: "user_agent",
} as const satisfies Record<keyof SessionRecord, string>;

// A page of listRevokedSince; the caller pages on (manager REVOKED_PAGE_SIZE).
const REVOKED_PAGE = 10_000;

const FIELDS = Object.keys(COLUMNS) as (keyof SessionRecord)[];
const SELECT_LIST = FIELDS.map((field) => COLUMNS[field]).join(", ");
const JSON_FIELDS: ReadonlySet<string> = new Set(["accessTokenPayload", "sessionData"]);

/**
 * Session storage on MySQL or MariaDB through one mysql2 pool, with `?` placeholders
 * only. Tables are created by a versioned migration on first use.
 */
export class MySqlStore implements SessionStore {
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #timeout: number;
  readonly #sessions: string;
  readonly #keys: string;
  readonly #secrets: string;
  readonly #prefix: string;

  constructor(connection: MySqlConnection, options: MySqlStoreOptions = {}) {
    const prefix = options.tablePrefix ?? "latchkey_";
    if (typeof prefix !== "string" || !/^[A-Za-z0-9_]{0,40}$/.test(prefix)) {
      throw new TypeError(
        `latchkey: option tablePrefix must be up to 40 letters, digits or underscores (got ${JSON.stringify(prefix)}).`,
      );
    }
    const timeout = options.queryTimeoutMs ?? 5000;
    if (!Number.isInteger(timeout) || timeout <= 0) {
      throw new TypeError(`latchkey: option queryTimeoutMs must be a positive integer of milliseconds (got ${String(timeout)}).`);
    }
    this.#prefix = prefix;
    this.#timeout = timeout;
    this.#sessions = `\`${prefix}sessions\``;
    this.#keys = `\`${prefix}signing_keys\``;
    this.#secrets = `\`${prefix}secrets\``;
    if (typeof connection === "string") {
      this.#pool = mysql.createPool({ ...poolDefaults(), uri: validateUri(connection) });
      this.#ownsPool = true;
    } else if (isPromisePool(connection)) {
      this.#pool = connection;
      this.#ownsPool = false;
    } else if (connection && typeof (connection as { promise?: unknown }).promise === "function") {
      this.#pool = (connection as { promise(): Pool }).promise();
      this.#ownsPool = false;
    } else if (connection && typeof connection === "object") {
      this.#pool = mysql.createPool({ ...poolDefaults(), ...(connection as PoolOptions) });
      this.#ownsPool = true;
    } else {
      throw new TypeError(
        "latchkey: a MySQL store needs a mysql:// URI, mysql2 pool options or a mysql2 pool " +
          `(got ${connection === null ? "null" : typeof connection}).`,
      );
    }
  }

  async init(): Promise<void> {
    await this.#run(schemaVersionTable(this.#prefix));
    const [rows] = await this.#run<RowDataPacket[]>(`SELECT MAX(version) AS version FROM \`${this.#prefix}schema_version\``);
    const current = Number(rows[0]?.version ?? 0);
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      for (const statement of migration.statements(this.#prefix)) await this.#run(statement);
      await this.#run(`INSERT IGNORE INTO \`${this.#prefix}schema_version\` (version, applied_at) VALUES (?, ?)`, [
        migration.version,
        Date.now(),
      ]);
    }
  }

  async createSession(record: SessionRecord): Promise<void> {
    const placeholders = FIELDS.map(() => "?").join(", ");
    await this.#run(
      `INSERT INTO ${this.#sessions} (${SELECT_LIST}) VALUES (${placeholders})`,
      FIELDS.map((field) => toColumn(field, record[field])),
    );
  }

  async findSession(handle: string): Promise<SessionRecord | null> {
    const [rows] = await this.#run<RowDataPacket[]>(
      `SELECT ${SELECT_LIST} FROM ${this.#sessions} WHERE session_handle = ?`,
      [handle],
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async updateSession<T>(handle: string, decide: (current: SessionRecord) => Decision<T>): Promise<T | null> {
    return this.#transaction(async (conn) => {
      const [rows] = await conn.execute<RowDataPacket[]>(
        { sql: `SELECT ${SELECT_LIST} FROM ${this.#sessions} WHERE session_handle = ? FOR UPDATE`, timeout: this.#timeout },
        [handle],
      );
      if (!rows[0]) return null;
      const { update, result } = decide(toRecord(rows[0]));
      if (update && Object.keys(update).length > 0) await this.#applyUpdate(conn, handle, update);
      return result;
    });
  }

  async revokeAllForUser(userId: string, at: number): Promise<string[]> {
    return this.#transaction(async (conn) => {
      const [rows] = await conn.execute<RowDataPacket[]>(
        {
          sql: `SELECT session_handle FROM ${this.#sessions} WHERE user_id = ? AND revoked_at IS NULL FOR UPDATE`,
          timeout: this.#timeout,
        },
        [userId],
      );
      if (rows.length === 0) return [];
      await conn.execute(
        { sql: `UPDATE ${this.#sessions} SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, timeout: this.#timeout },
        [at, userId],
      );
      return rows.map((row) => String(row.session_handle));
    });
  }

  async listForUser(userId: string, now: number): Promise<SessionRecord[]> {
    const [rows] = await this.#run<RowDataPacket[]>(
      `SELECT ${SELECT_LIST} FROM ${this.#sessions}
       WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND absolute_expires_at > ?
       ORDER BY created_at, session_handle`,
      [userId, now, now],
    );
    return rows.map(toRecord);
  }

  async listRevokedSince(since: number): Promise<RevokedHandle[]> {
    const [rows] = await this.#run<RowDataPacket[]>(
      `SELECT session_handle, revoked_at FROM ${this.#sessions} WHERE revoked_at >= ? ORDER BY revoked_at LIMIT ${REVOKED_PAGE}`,
      [since],
    );
    return rows.map((row) => ({ handle: String(row.session_handle), revokedAt: Number(row.revoked_at) }));
  }

  async deleteExpired(now: number, limit: number): Promise<ExpiredSession[]> {
    // LIMIT cannot take a placeholder in every server version; the integer is checked here.
    // "Up to limit": below 1 (or NaN) deletes nothing, as the memory store does, rather
    // than the one row a clamp to LIMIT 1 would delete.
    const batch = Math.floor(limit);
    if (!(batch >= 1)) return [];
    return this.#transaction(async (conn) => {
      const [rows] = await conn.execute<RowDataPacket[]>(
        {
          sql: `SELECT session_handle, user_id, revoked_at, ip, user_agent FROM ${this.#sessions}
                WHERE expires_at <= ? ORDER BY expires_at LIMIT ${batch} FOR UPDATE`,
          timeout: this.#timeout,
        },
        [now],
      );
      if (rows.length === 0) return [];
      const handles = rows.map((row) => String(row.session_handle));
      await conn.execute(
        { sql: `DELETE FROM ${this.#sessions} WHERE session_handle IN (${handles.map(() => "?").join(", ")})`, timeout: this.#timeout },
        handles,
      );
      return rows.map((row) => ({
        handle: String(row.session_handle),
        userId: text(row.user_id),
        revokedAt: nullableNumber(row.revoked_at),
        ip: row.ip === null ? null : String(row.ip),
        userAgent: row.user_agent === null ? null : String(row.user_agent),
      }));
    });
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const [rows] = await this.#run<RowDataPacket[]>(
      `SELECT kid, algorithm, public_key, private_key, created_at, signs_from, signs_until FROM ${this.#keys} ORDER BY signs_from`,
    );
    return rows.map((row) => ({
      kid: String(row.kid),
      algorithm: String(row.algorithm) as SigningKeyRecord["algorithm"],
      publicKey: String(row.public_key),
      privateKey: String(row.private_key),
      createdAt: Number(row.created_at),
      signsFrom: Number(row.signs_from),
      signsUntil: Number(row.signs_until),
    }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.#run(
      `INSERT IGNORE INTO ${this.#keys} (kid, algorithm, public_key, private_key, created_at, signs_from, signs_until)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [key.kid, key.algorithm, key.publicKey, key.privateKey, key.createdAt, key.signsFrom, key.signsUntil],
    );
  }

  async deleteRetiredKeys(signsUntilBefore: number): Promise<number> {
    const [result] = await this.#run<mysql.ResultSetHeader>(`DELETE FROM ${this.#keys} WHERE signs_until < ?`, [signsUntilBefore]);
    return result.affectedRows;
  }

  async getOrCreateSecret(name: string, candidate: Buffer): Promise<Buffer> {
    await this.#run(`INSERT IGNORE INTO ${this.#secrets} (name, value, created_at) VALUES (?, ?, ?)`, [
      name,
      candidate,
      Date.now(),
    ]);
    const [rows] = await this.#run<RowDataPacket[]>(`SELECT value FROM ${this.#secrets} WHERE name = ?`, [name]);
    return Buffer.from(rows[0]?.value as Buffer);
  }

  async close(): Promise<void> {
    // Ending a pool reports the failures of connections that were still being attempted
    // (a database that went away); there is nothing left to do about them.
    if (this.#ownsPool) await this.#pool.end().catch(() => {});
  }

  async #run<T extends RowDataPacket[] | mysql.ResultSetHeader = mysql.ResultSetHeader>(
    sql: string,
    params: unknown[] = [],
  ): Promise<[T, unknown]> {
    return this.#withConnection(
      async (conn) => (await conn.execute<T>({ sql, timeout: this.#timeout }, params as never)) as [T, unknown],
    );
  }

  async #transaction<T>(work: (conn: PoolConnection) => Promise<T>): Promise<T> {
    return this.#withConnection(async (conn) => {
      // Transaction control goes through query() with a timeout like every statement:
      // mysql2's beginTransaction() and commit() have none. On failure there is no
      // ROLLBACK: the connection is destroyed, and the server rolls back for us.
      await conn.query({ sql: "START TRANSACTION", timeout: this.#timeout });
      const result = await work(conn);
      await conn.query({ sql: "COMMIT", timeout: this.#timeout });
      return result;
    });
  }

  /**
   * Runs `work` on a pooled connection under one deadline covering the wait for a
   * connection and every statement: a database that accepts connections but never
   * answers must cost a request `queryTimeoutMs`, not forever. A connection goes back to
   * the pool only after success; after a failure or the deadline its state is unknown
   * (half a protocol exchange, an open transaction), so it is destroyed.
   */
  async #withConnection<T>(work: (conn: PoolConnection) => Promise<T>): Promise<T> {
    let conn: PoolConnection | undefined;
    let expired = false;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        conn?.destroy();
        reject(Object.assign(new Error(`no answer from MySQL within ${this.#timeout} ms`), { code: "LATCHKEY_TIMEOUT" }));
      }, this.#timeout);
    });
    const attempt = (async () => {
      const acquired = await this.#pool.getConnection();
      // A connection that arrives after the deadline is healthy: give it back.
      if (expired) return void acquired.release() as never;
      conn = acquired;
      try {
        const result = await work(acquired);
        if (!expired) acquired.release();
        return result;
      } catch (error) {
        if (!expired) acquired.destroy();
        throw error;
      }
    })();
    attempt.catch(() => {}); // after the deadline, its failure has no one left to tell
    try {
      return await Promise.race([attempt, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #applyUpdate(conn: PoolConnection, handle: string, update: SessionUpdate): Promise<void> {
    const fields = Object.keys(update) as (keyof SessionUpdate)[];
    const assignments = fields.map((field) => `${COLUMNS[field]} = ?`).join(", ");
    await conn.execute(
      { sql: `UPDATE ${this.#sessions} SET ${assignments} WHERE session_handle = ?`, timeout: this.#timeout },
      [...fields.map((field) => toColumn(field, update[field])), handle] as never,
    );
  }
}

/**
 * Builds a MySQL session store.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware({ store: mysqlStore("mysql://app:secret@127.0.0.1:3306/app") }));
 * app.use(sessionMiddleware({ store: mysqlStore(existingPool, { tablePrefix: "auth_" }) }));
 * ```
 */
export function mysqlStore(connection: MySqlConnection, options?: MySqlStoreOptions): MySqlStore {
  return new MySqlStore(connection, options);
}

/** Replaces the password in a connection URI, for error messages and logs. */
export function redactUri(uri: string): string {
  // Works on malformed URIs too (those are the ones that end up in error messages):
  // everything between the user name's ':' and the last '@' is the password.
  const at = uri.lastIndexOf("@");
  if (at === -1) return uri;
  const scheme = uri.indexOf("://");
  const userStart = scheme !== -1 && scheme < at ? scheme + 3 : 0;
  const colon = uri.indexOf(":", userStart);
  return colon === -1 || colon > at ? uri : `${uri.slice(0, colon + 1)}***${uri.slice(at)}`;
}

function validateUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TypeError(
      `latchkey: the MySQL URI is not a valid URL (got ${JSON.stringify(redactUri(uri))}). ` +
        "Use mysql://user:password@host:3306/database.",
    );
  }
  if (url.protocol !== "mysql:") {
    throw new TypeError(
      `latchkey: the store URI must start with mysql:// (got ${JSON.stringify(redactUri(uri))}). ` +
        "latchkey stores sessions in MySQL or MariaDB: mysql://user:password@host:3306/database.",
    );
  }
  if (url.pathname.length <= 1) {
    throw new TypeError(
      `latchkey: the MySQL URI names no database (got ${JSON.stringify(redactUri(uri))}). ` +
        "Add it as the path: mysql://user:password@host:3306/database.",
    );
  }
  return uri;
}

function poolDefaults(): PoolOptions {
  return { connectionLimit: 10, connectTimeout: 5000, enableKeepAlive: true, waitForConnections: true };
}

function isPromisePool(value: unknown): value is Pool {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Pool).getConnection === "function" &&
    typeof (value as Pool).execute === "function" &&
    typeof (value as { promise?: unknown }).promise !== "function"
  );
}

function toColumn(field: keyof SessionRecord, value: unknown): unknown {
  if (JSON_FIELDS.has(field)) return JSON.stringify(value);
  return value === undefined ? null : value;
}

function toRecord(row: RowDataPacket): SessionRecord {
  return {
    handle: String(row.session_handle),
    userId: text(row.user_id),
    refreshTokenHash: Buffer.from(row.refresh_token_hash as Buffer),
    prevRefreshTokenHash: row.prev_refresh_token_hash ? Buffer.from(row.prev_refresh_token_hash as Buffer) : null,
    rotatedAt: nullableNumber(row.rotated_at),
    // MariaDB returns JSON columns as text, MySQL as parsed values.
    accessTokenPayload: parseJson(row.access_token_payload),
    sessionData: parseJson(row.session_data),
    createdAt: Number(row.created_at),
    lastRefreshedAt: Number(row.last_refreshed_at),
    expiresAt: Number(row.expires_at),
    absoluteExpiresAt: Number(row.absolute_expires_at),
    revokedAt: nullableNumber(row.revoked_at),
    ip: row.ip === null ? null : String(row.ip),
    userAgent: row.user_agent === null ? null : String(row.user_agent),
  };
}

// VARBINARY columns arrive as Buffers of UTF-8.
function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function parseJson(value: unknown): Record<string, unknown> {
  if (typeof value === "string") return JSON.parse(value) as Record<string, unknown>;
  if (Buffer.isBuffer(value)) return JSON.parse(value.toString("utf8")) as Record<string, unknown>;
  return (value ?? {}) as Record<string, unknown>;
}
