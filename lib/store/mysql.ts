import type { RowDataPacket } from "mysql2/promise";
import { migrate } from "./migrate";
import { openPool, tablePrefix, type MySqlConnection } from "./mysql-pool";

export type { MySqlConnection } from "./mysql-pool";
export { redactUri } from "./mysql-pool";
import { MySqlConnector, type Statements } from "./mysql-connection";
import { refuseReadOnlyServer } from "./mysql-server";
import { MySqlSharedTables } from "./mysql-shared";
import { assignments, FIELDS, METADATA_LIST, nullableNumber, nullableText, SELECT_LIST, text, toColumn, toMetadata, toRecord } from "./mysql-rows";
import type {
  ClaimInvalidation,
  CreateOptions,
  Decision,
  ExpiredSession,
  ListPosition,
  RevocationPosition,
  RevokedHandle,
  RevokedSession,
  SessionMetadata,
  SessionRecord,
  SessionStore,
  SigningKeyRecord,
} from "./store";
import type { SslSetting } from "./tls";

/** Options for {@link mysqlStore}. */
export interface MySqlStoreOptions {
  /**
   * Prefix of every table name: letters, digits and `_`.
   * @default LATCHKEY_TABLE_PREFIX, else "latchkey_"
   */
  tablePrefix?: string;
  /**
   * How long one store call may take — waiting for a connection, every statement and
   * every retry after a write conflict — before it gives up, in milliseconds, so that a
   * database that accepts connections but never answers cannot hang a request.
   * @default 5000
   */
  queryTimeoutMs?: number;
  /**
   * Whether the store may create and upgrade its tables itself (on first use, only when the
   * schema is missing or behind). `false` never runs DDL: the app's database user then needs
   * only SELECT, INSERT, UPDATE and DELETE, and the schema comes from `npx latchkey migrate`.
   * @default true
   */
  migrate?: boolean;
  /**
   * TLS to the database, for pools the store creates (a URI or pool options): `true` verifies
   * the server's certificate and host name against Node's CAs; see {@link SslSetting}.
   * A URI can say the same with `?ssl=true`, `?ssl-ca=/path/ca.pem` or `?ssl-mode=...`.
   * @default no TLS
   */
  ssl?: SslSetting;
}

// Milliseconds since the epoch on the database's clock (UNIX_TIMESTAMP reads NOW in the session's time zone).
const DATABASE_NOW = "ROUND(UNIX_TIMESTAMP(NOW(3)) * 1000)";

// How many handles one statement names when revoking by user (each batch locks only those rows).
const REVOKE_BATCH = 500;

/**
 * Session storage on MySQL or MariaDB through one mysql2 pool, with `?` placeholders
 * only. Tables are created by a versioned migration on first use (see {@link MySqlStoreOptions.migrate}).
 */
export class MySqlStore implements SessionStore {
  /** The prefix of this store's tables. */
  readonly tablePrefix: string;
  readonly #db: MySqlConnector;
  readonly #migrate: boolean;
  readonly #sessions: string;
  readonly #shared: MySqlSharedTables;

  constructor(connection: MySqlConnection, options: MySqlStoreOptions = {}) {
    const prefix = tablePrefix(options.tablePrefix);
    const timeout = options.queryTimeoutMs ?? 5000;
    if (!Number.isInteger(timeout) || timeout <= 0) {
      throw new TypeError(`latchkey: option queryTimeoutMs must be a positive integer of milliseconds (got ${String(timeout)}).`);
    }
    if (options.migrate !== undefined && typeof options.migrate !== "boolean") {
      throw new TypeError(`latchkey: option migrate must be true or false (got ${typeof options.migrate}).`);
    }
    this.tablePrefix = prefix;
    this.#migrate = options.migrate ?? true;
    this.#sessions = `\`${prefix}sessions\``;
    const { pool, owned } = openPool(connection, options.ssl);
    this.#db = new MySqlConnector(pool, owned, timeout);
    this.#shared = new MySqlSharedTables(this.#db, prefix);
  }

  get callTimeoutMs(): number {
    return this.#db.timeoutMs;
  }

  /** @internal The connector, for the SuperTokens migration (lib/migration/supertokens/), whose tables sit in this database. */
  get connector(): MySqlConnector {
    return this.#db;
  }

  init(): Promise<void> {
    return refuseReadOnlyServer(this.#db).then(() => migrate(this.#db, this.tablePrefix, this.#migrate));
  }

  async createSession(record: SessionRecord, options: CreateOptions = {}): Promise<RevokedSession[]> {
    const insert = `INSERT INTO ${this.#sessions} (${SELECT_LIST}) VALUES (${FIELDS.map(() => "?").join(", ")})`;
    const values = FIELDS.map((field) => toColumn(field, record[field]));
    const max = options.maxSessionsPerUser;
    if (max === undefined) {
      await this.#db.run(insert, values, { write: true });
      return [];
    }
    const at = options.at ?? record.createdAt;
    return this.#db.transaction(async (tx) => {
      // Locks the user's rows (and, under REPEATABLE READ, the gap new rows of this user
      // go into), so concurrent logins of one user count each other.
      const live = await tx.execute<RowDataPacket[]>(
        `SELECT session_handle, user_id, ip, user_agent FROM ${this.#sessions}
         WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND absolute_expires_at > ?
         ORDER BY last_refreshed_at, session_handle FOR UPDATE`,
        [record.userId, at, at],
      );
      const evicted = live.slice(0, Math.max(0, live.length - max + 1)).map(revokedRow);
      if (evicted.length > 0) await this.#stamp(tx, evicted, at);
      await tx.execute(insert, values);
      return evicted;
    });
  }

  async findSession(handle: string): Promise<SessionRecord | null> {
    const rows = await this.#db.run<RowDataPacket[]>(`SELECT ${SELECT_LIST} FROM ${this.#sessions} WHERE session_handle = ?`, [handle]);
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async updateSession<T>(handle: string, decide: (current: SessionRecord, databaseNow?: number) => Decision<T>): Promise<T | null> {
    return this.#db.transaction(async (tx) => {
      // The database's clock, read with the lock: instances compare rotation times on it, not on their own clocks.
      const rows = await tx.execute<RowDataPacket[]>(
        `SELECT ${SELECT_LIST}, ${DATABASE_NOW} AS latchkey_now FROM ${this.#sessions} WHERE session_handle = ? FOR UPDATE`,
        [handle],
      );
      if (!rows[0]) return null;
      const { update, result } = decide(toRecord(rows[0]), Number(rows[0].latchkey_now));
      if (update && Object.keys(update).length > 0) {
        const set = assignments(update);
        await tx.execute(`UPDATE ${this.#sessions} SET ${set.sql} WHERE session_handle = ?`, [...set.values, handle]);
      }
      return result;
    });
  }

  async databaseNow(): Promise<number> {
    const rows = await this.#db.run<RowDataPacket[]>(`SELECT ${DATABASE_NOW} AS latchkey_now`);
    return Number(rows[0]?.latchkey_now);
  }

  async revokeSessionsOfUser(userId: string, clock: () => number, options: { except?: string } = {}): Promise<RevokedSession[]> {
    // Find the handles by index without locking anything, then lock and revoke them by
    // primary key in small batches: a locking read through the user index could lock
    // other users' rows (a full scan when the user owns many) and the gaps logins insert into.
    const candidates = await this.#db.run<RowDataPacket[]>(
      `SELECT session_handle FROM ${this.#sessions} WHERE user_id = ? AND revoked_at IS NULL AND session_handle <> ? ORDER BY session_handle`,
      [userId, options.except ?? ""],
    );
    const revoked: RevokedSession[] = [];
    for (let from = 0; from < candidates.length; from += REVOKE_BATCH) {
      const handles = candidates.slice(from, from + REVOKE_BATCH).map((row) => String(row.session_handle));
      const batch = await this.#db.transaction(async (tx) => {
        const rows = await tx.execute<RowDataPacket[]>(
          `SELECT session_handle, user_id, ip, user_agent FROM ${this.#sessions} FORCE INDEX (PRIMARY)
           WHERE session_handle IN (${handles.map(() => "?").join(", ")}) AND user_id = ? AND revoked_at IS NULL FOR UPDATE`,
          [...handles, userId],
        );
        const locked = rows.map(revokedRow);
        if (locked.length > 0) await this.#stamp(tx, locked, clock());
        return locked;
      });
      revoked.push(...batch);
    }
    return revoked;
  }

  async listForUser(userId: string, now: number, page: { limit: number; after?: ListPosition }): Promise<SessionMetadata[]> {
    const limit = Math.floor(page.limit);
    if (!(limit >= 1)) return [];
    const after = page.after;
    const rows = await this.#db.run<RowDataPacket[]>(
      `SELECT ${METADATA_LIST} FROM ${this.#sessions}
       WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? AND absolute_expires_at > ?
       ${after ? "AND (created_at > ? OR (created_at = ? AND session_handle > ?))" : ""}
       ORDER BY created_at, session_handle LIMIT ${limit}`,
      after ? [userId, now, now, after.createdAt, after.createdAt, after.handle] : [userId, now, now],
    );
    return rows.map(toMetadata);
  }

  async listRevokedSince(since: RevocationPosition, limit: number): Promise<RevokedHandle[]> {
    const page = Math.floor(limit);
    if (!(page >= 1)) return [];
    // Keyset paging on (revoked_at, session_handle), which the revoked_at index holds
    // (InnoDB appends the primary key): a burst stamped in one millisecond pages on too.
    const rows = await this.#db.run<RowDataPacket[]>(
      `SELECT session_handle, revoked_at FROM ${this.#sessions}
       WHERE revoked_at >= ? AND (revoked_at > ? OR session_handle > ?)
       ORDER BY revoked_at, session_handle LIMIT ${page}`,
      [since.revokedAt, since.revokedAt, since.handle],
    );
    return rows.map((row) => ({ handle: String(row.session_handle), revokedAt: Number(row.revoked_at) }));
  }

  async deleteExpired(now: number, limit: number): Promise<ExpiredSession[]> {
    // LIMIT cannot take a placeholder in every server version; the integer is checked here.
    // "Up to limit": below 1 (or NaN) deletes nothing, as the memory store does.
    const batch = Math.floor(limit);
    if (!(batch >= 1)) return [];
    return this.#db.transaction(async (tx) => {
      // SKIP LOCKED: concurrent cleanups take disjoint rows (so none is reported twice),
      // and a cleanup never waits on — or deadlocks with — a refresh or a revocation.
      const rows = await tx.execute<RowDataPacket[]>(
        `SELECT session_handle, user_id, revoked_at, ip, user_agent FROM ${this.#sessions}
         WHERE expires_at <= ? ORDER BY expires_at LIMIT ${batch} FOR UPDATE SKIP LOCKED`,
        [now],
      );
      if (rows.length === 0) return [];
      const handles = rows.map((row) => String(row.session_handle));
      // The multi-table form: the only DELETE that takes an index hint.
      await tx.execute(
        `DELETE doomed FROM ${this.#sessions} AS doomed FORCE INDEX (PRIMARY) WHERE doomed.session_handle IN (${handles.map(() => "?").join(", ")})`,
        handles,
      );
      return rows.map((row) => ({
        handle: String(row.session_handle),
        userId: text(row.user_id),
        revokedAt: nullableNumber(row.revoked_at),
        ip: nullableText(row.ip),
        userAgent: nullableText(row.user_agent),
      }));
    });
  }

  invalidateClaim(userId: string, key: string, at: number): Promise<void> {
    return this.#shared.invalidateClaim(userId, key, at);
  }

  listClaimInvalidationsSince(since: number): Promise<ClaimInvalidation[]> {
    return this.#shared.listClaimInvalidationsSince(since);
  }

  deleteClaimInvalidations(before: number): Promise<number> {
    return this.#shared.deleteClaimInvalidations(before);
  }

  listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#shared.listSigningKeys();
  }

  insertSigningKey(key: SigningKeyRecord): Promise<void> {
    return this.#shared.insertSigningKey(key);
  }

  deleteRetiredKeys(signsUntilBefore: number): Promise<number> {
    return this.#shared.deleteRetiredKeys(signsUntilBefore);
  }

  getOrCreateSecret(name: string, candidate: Buffer): Promise<Buffer> {
    return this.#shared.getOrCreateSecret(name, candidate);
  }

  close(): Promise<void> {
    return this.#db.close();
  }

  // Statements that name rows by primary key say so: when a batch covers most of the
  // table, the optimiser would otherwise scan it whole, and under REPEATABLE READ a
  // locking scan locks every row it reads, other users' included.
  async #stamp(tx: Statements, sessions: RevokedSession[], at: number): Promise<void> {
    await tx.execute(`UPDATE ${this.#sessions} FORCE INDEX (PRIMARY) SET revoked_at = ? WHERE session_handle IN (${sessions.map(() => "?").join(", ")})`, [
      at,
      ...sessions.map((session) => session.handle),
    ]);
  }
}

/**
 * Builds a MySQL session store.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware({ store: mysqlStore("mysql://app:secret@127.0.0.1:3306/app") }));
 * app.use(sessionMiddleware({ store: mysqlStore(existingPool, { tablePrefix: "auth_", migrate: false }) }));
 * app.use(sessionMiddleware({ store: mysqlStore("mysql://app:secret@db.example.com/app?ssl=true") }));
 * ```
 */
export function mysqlStore(connection: MySqlConnection, options?: MySqlStoreOptions): MySqlStore {
  return new MySqlStore(connection, options);
}

function revokedRow(row: RowDataPacket): RevokedSession {
  return { handle: String(row.session_handle), userId: text(row.user_id), ip: nullableText(row.ip), userAgent: nullableText(row.user_agent) };
}
