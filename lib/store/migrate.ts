import { randomInt } from "node:crypto";
import type { RowDataPacket } from "mysql2/promise";
import type { MySqlConnector } from "./mysql-connection";
import { MIGRATIONS, SCHEMA_VERSION, schemaVersionTable } from "./schema";

/** How many times a migration that failed is tried again (after re-reading the version). */
const MIGRATION_ATTEMPTS = 5;
// Schema changes may rewrite a large table; the request deadline does not apply to them.
const DDL_TIMEOUT_MS = 600_000;

// What a statement gets when another instance applied it a moment earlier: the table,
// column or index exists, or the index to drop is gone already.
const ALREADY_APPLIED: ReadonlySet<number> = new Set([1050, 1060, 1061, 1091]);
const NO_SUCH_TABLE = 1146;
// Command denied on a table (1142) or on the database (1044).
const DENIED: ReadonlySet<number> = new Set([1142, 1044]);

/** `code` of the error `init()` rejects with when the schema is missing or old and DDL is not allowed. */
export const SCHEMA_NOT_READY = "LATCHKEY_SCHEMA_NOT_READY";

/** The schema version of the tables with this prefix: 0 when there are none. */
export async function schemaVersion(db: MySqlConnector, prefix: string): Promise<number> {
  try {
    const rows = await db.run<RowDataPacket[]>(`SELECT MAX(version) AS version FROM \`${prefix}schema_version\``);
    return Number(rows[0]?.version ?? 0);
  } catch (error) {
    if ((error as { errno?: unknown }).errno === NO_SUCH_TABLE) return 0;
    throw error;
  }
}

/**
 * Brings the schema up to date. It reads the version first and runs DDL only when the
 * schema is behind — never at every start, where DDL would go through Galera's
 * cluster-wide total-order replication each time. With `allowDdl: false` it runs none
 * and rejects, saying how to migrate, when the schema is missing or old.
 */
export async function migrate(db: MySqlConnector, prefix: string, allowDdl: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const current = await schemaVersion(db, prefix);
    if (current >= SCHEMA_VERSION) return;
    if (!allowDdl) throw notReady(prefix, current);
    try {
      await apply(db, prefix, current);
      return;
    } catch (error) {
      // Instances migrating at once can trip over each other in ways no error code names
      // reliably (on Galera the same ALTER replicated from another node interrupts the
      // local one: 1317). The migration is idempotent: read the version again and retry.
      if ((error as { code?: unknown }).code === SCHEMA_NOT_READY || attempt >= MIGRATION_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, randomInt(50, 250) * attempt));
    }
  }
}

async function apply(db: MySqlConnector, prefix: string, current: number): Promise<void> {
  const ddl = (statement: string) =>
    db.run(statement, [], { timeoutMs: DDL_TIMEOUT_MS }).catch((error: unknown) => {
      const errno = (error as { errno?: number }).errno ?? 0;
      if (ALREADY_APPLIED.has(errno)) return;
      // The app's user may not change the schema: say what to do, not only what failed.
      if (DENIED.has(errno)) throw Object.assign(notReady(prefix, current, "the database user may not create or alter tables"), { cause: error });
      throw error;
    });
  if (current === 0) await ddl(schemaVersionTable(prefix));
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    for (const statement of migration.statements(prefix)) await ddl(statement);
    await db.run(`INSERT IGNORE INTO \`${prefix}schema_version\` (version, applied_at) VALUES (?, ?)`, [migration.version, Date.now()], {
      write: true,
    });
  }
}

function notReady(prefix: string, current: number, why = "the store was built with migrate: false, so it runs no DDL"): Error {
  const state =
    current === 0 ? `there are no latchkey tables with prefix "${prefix}"` : `the tables with prefix "${prefix}" are at schema version ${current}, and this latchkey needs ${SCHEMA_VERSION}`;
  const script = current === 0 ? "npx latchkey migrate --print" : `npx latchkey migrate --print --from ${current}`;
  return Object.assign(
    new Error(`latchkey: ${state}, and ${why}: run \`npx latchkey migrate\` as a user allowed to create and alter tables, or apply the SQL of \`${script}\`.`),
    { code: SCHEMA_NOT_READY, schemaVersion: current },
  );
}
