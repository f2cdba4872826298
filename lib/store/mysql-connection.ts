import { randomInt } from "node:crypto";
import type { Pool, PoolConnection } from "mysql2/promise";
import { OUTCOME_UNKNOWN } from "./store";

/**
 * Write conflicts that leave nothing behind, so the whole transaction can run again:
 * InnoDB deadlocks and Galera certification failures (1213), lock-wait timeouts (1205),
 * TiDB write conflicts (8002, 8005, 9007).
 */
const CONFLICTS: ReadonlySet<number> = new Set([1213, 1205, 8002, 8005, 9007]);

/** Driver failures after which nothing can be said about a statement that was sent. */
const LOST: ReadonlySet<string> = new Set([
  "LATCHKEY_TIMEOUT",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "PROTOCOL_CONNECTION_LOST",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
]);

// Full jitter, so instances that collided do not collide again in step.
const BACKOFF_BASE_MS = 4;
const BACKOFF_CAP_MS = 100;

/** What a statement inside {@link MySqlConnector.transaction} runs on. */
export interface Statements {
  execute<T>(sql: string, params?: unknown[]): Promise<T>;
}

/**
 * Runs latchkey's statements on one mysql2 pool: every call (waiting for a connection,
 * each statement, each retry) within one deadline of `timeoutMs`; write conflicts retried
 * with jittered backoff; a connection that failed destroyed, never reused; and a write
 * whose answer never came reported as {@link OUTCOME_UNKNOWN}, after the server-side
 * thread was killed so that it cannot commit behind the caller's back.
 */
export class MySqlConnector {
  readonly timeoutMs: number;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  // Connections configured already (the pool's own objects, which outlive a checkout).
  readonly #configured = new WeakSet<object>();

  constructor(pool: Pool, ownsPool: boolean, timeoutMs: number) {
    this.#pool = pool;
    this.#ownsPool = ownsPool;
    this.timeoutMs = timeoutMs;
  }

  /**
   * One statement outside a transaction. `write` marks one whose lost answer leaves its
   * outcome unknown; `timeoutMs` replaces the deadline (schema changes on a large table).
   */
  run<T>(sql: string, params: unknown[] = [], options: { write?: boolean; timeoutMs?: number } = {}): Promise<T> {
    return this.#call(async (conn, deadline, progress) => {
      if (options.write) progress.writeSent = true;
      return execute<T>(conn, sql, params, deadline);
    }, options.timeoutMs);
  }

  /**
   * A transaction. `work` may run more than once (after a conflict), each time on a
   * fresh view of the data, so it must decide only from what it reads.
   */
  transaction<T>(work: (statements: Statements) => Promise<T>): Promise<T> {
    return this.#call(async (conn, deadline, progress) => {
      // Transaction control goes through query() with a timeout like every statement:
      // mysql2's beginTransaction() and commit() have none.
      await conn.query({ sql: "START TRANSACTION", timeout: remaining(deadline) });
      const result = await work({ execute: (sql, params = []) => execute(conn, sql, params, deadline) });
      progress.writeSent = true;
      await conn.query({ sql: "COMMIT", timeout: remaining(deadline) });
      return result;
    });
  }

  async close(): Promise<void> {
    // Ending a pool reports the failures of connections that were still being attempted
    // (a database that went away); there is nothing left to do about them.
    if (this.#ownsPool) await this.#pool.end().catch(() => {});
  }

  async #call<T>(body: (conn: PoolConnection, deadline: number, progress: Progress) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(body, deadline, timeoutMs);
      } catch (error) {
        const wait = randomInt(Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt) + 1);
        if (!isConflict(error) || Date.now() + wait >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /**
   * One attempt on one pooled connection. The connection goes back to the pool after
   * success, and after an error the server answered for a statement (a conflict, a missing
   * table, a read-only server): the connection is in step, and a ROLLBACK makes its session
   * clean. Only a connection-level fault (a lost or fatal connection, the deadline) leaves
   * its state unknown, so only then is it destroyed — replacing connections on every
   * statement error would turn a schema or permission fault into a connection storm.
   */
  async #attempt<T>(
    body: (conn: PoolConnection, deadline: number, progress: Progress) => Promise<T>,
    deadline: number,
    timeoutMs: number,
  ): Promise<T> {
    const progress: Progress = { writeSent: false };
    let conn: PoolConnection | undefined;
    let expired = false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        expired = true;
        conn?.destroy();
        reject(timeoutError(timeoutMs));
      }, Math.max(0, deadline - Date.now()));
    });
    const work = (async () => {
      const acquired = await this.#pool.getConnection();
      // A connection that arrives after the deadline is healthy: give it back.
      if (expired) return void acquired.release() as never;
      conn = acquired;
      await this.#configure(acquired, deadline);
      return body(acquired, deadline, progress);
    })();
    work.catch(() => {}); // after the deadline, its failure has no one left to tell
    try {
      const result = await Promise.race([work, timeout]);
      conn?.release();
      return result;
    } catch (error) {
      if (conn && !expired && isStatementError(error)) {
        await conn.query({ sql: "ROLLBACK", timeout: 1000 }).then(
          () => conn?.release(),
          () => conn?.destroy(),
        );
        throw error;
      }
      conn?.destroy();
      throw await this.#settle(error, conn, progress);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * After a timeout or a lost connection, the server may still be running what was sent:
   * a lock wait that keeps its locks, a COMMIT stuck behind a stall. Killing its thread
   * ends that; when a write was sent, the caller learns the outcome is unknown (and
   * whether the kill went through) so it can read what happened rather than guess.
   */
  async #settle(error: unknown, conn: PoolConnection | undefined, progress: Progress): Promise<unknown> {
    if (!isLost(error)) return error;
    const threadId = conn?.connection?.threadId;
    const killed = typeof threadId === "number" ? await this.#kill(threadId) : false;
    if (!progress.writeSent) return error;
    return Object.assign(new Error("the database did not confirm a write; its outcome is unknown", { cause: error }), {
      code: OUTCOME_UNKNOWN,
      killed,
    });
  }

  async #kill(threadId: number): Promise<boolean> {
    try {
      await withTimeout(this.#pool.query({ sql: `KILL ${Math.trunc(threadId)}`, timeout: KILL_TIMEOUT_MS }), KILL_TIMEOUT_MS);
      return true;
    } catch (error) {
      // 1094: no such thread — it has ended already, which is all a kill is for.
      return (error as { errno?: unknown }).errno === 1094;
    }
  }

  /**
   * Once per connection: keep the server's own lock wait below the client's deadline (so
   * a lock wait ends in a retryable 1205, not an abandoned statement), and on Galera make
   * reads causal, so a row committed on another node is seen at once (`wsrep_sync_wait`).
   */
  async #configure(conn: PoolConnection, deadline: number): Promise<void> {
    const core = conn.connection as object;
    if (this.#configured.has(core)) return;
    const [rows] = await conn.query({ sql: "SHOW VARIABLES LIKE 'wsrep_on'", timeout: remaining(deadline) });
    const galera = (rows as { Value?: string }[]).some((row) => String(row.Value).toUpperCase() === "ON");
    const lockWait = Math.max(1, Math.floor(this.timeoutMs / 2000));
    await conn.query({
      sql: `SET SESSION innodb_lock_wait_timeout = ${lockWait}${galera ? ", SESSION wsrep_sync_wait = 1" : ""}`,
      timeout: remaining(deadline),
    });
    this.#configured.add(core);
  }
}

interface Progress {
  /** A statement that may commit (a COMMIT, an autocommitted write) has been sent. */
  writeSent: boolean;
}

const KILL_TIMEOUT_MS = 1000;

async function execute<T>(conn: PoolConnection, sql: string, params: unknown[], deadline: number): Promise<T> {
  const [result] = await conn.execute({ sql, timeout: remaining(deadline) }, params as never);
  return result as T;
}

function remaining(deadline: number): number {
  return Math.max(1, deadline - Date.now());
}

function timeoutError(ms: number): Error {
  return Object.assign(new Error(`no answer from MySQL within ${ms} ms`), { code: "LATCHKEY_TIMEOUT" });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export function isConflict(error: unknown): boolean {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === "number" && CONFLICTS.has(errno);
}

/** An error the server answered for one statement, on a connection still in step. */
function isStatementError(error: unknown): boolean {
  const errno = (error as { errno?: unknown } | null)?.errno;
  return typeof errno === "number" && !isLost(error);
}

function isLost(error: unknown): boolean {
  const candidate = error as { code?: unknown; fatal?: unknown } | null;
  return candidate?.fatal === true || (typeof candidate?.code === "string" && LOST.has(candidate.code));
}
