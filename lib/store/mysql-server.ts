import type { RowDataPacket } from "mysql2/promise";
import type { MySqlConnector } from "./mysql-connection";

/** `code` of the error `init()` rejects with on a read-only server (a replica). */
export const READ_ONLY_SERVER = "LATCHKEY_READ_ONLY_SERVER";

// read_only and super_read_only (MySQL) stop users without SUPER / READ ONLY ADMIN; a
// user with them (root) still writes, which on a replica leaves an errant GTID that breaks
// the next failover. innodb_read_only (an Aurora reader, a server started read-only)
// stops everyone. Any of them ON means this is not the primary.
const READ_ONLY_VARIABLES = ["read_only", "super_read_only", "innodb_read_only"];
// Parse error, not supported in a prepared statement, not supported, unknown error (Vitess/TiDB).
const UNSUPPORTED: ReadonlySet<number> = new Set([1064, 1295, 1235, 1105]);

/**
 * Refuses a read-only server before anything is written to it, whatever the user may do:
 * sessions must be written to the primary, and a replica that accepts writes (root, READ
 * ONLY ADMIN) would fork from it. Engines without these variables (they list none) pass.
 */
export async function refuseReadOnlyServer(db: MySqlConnector): Promise<void> {
  let rows: RowDataPacket[];
  try {
    rows = await db.run<RowDataPacket[]>(
      `SHOW GLOBAL VARIABLES WHERE Variable_name IN (${READ_ONLY_VARIABLES.map(() => "?").join(", ")})`,
      READ_ONLY_VARIABLES,
    );
  } catch (error) {
    // A proxy or engine that does not take this statement (Vitess, TiDB may answer a parse
    // error or 1105 "unsupported") cannot be asked; faults of the connection still reject.
    if (UNSUPPORTED.has((error as { errno?: number }).errno ?? 0)) return;
    throw error;
  }
  const on = rows
    .filter((row) => !["OFF", "0", ""].includes(String(row.Value).toUpperCase()))
    .map((row) => `${String(row.Variable_name).toLowerCase()} is ${String(row.Value)}`)
    .sort();
  if (on.length === 0) return;
  throw Object.assign(
    new Error(`latchkey: this MySQL server is read-only (a replica?): point LATCHKEY_DATABASE_URL at the primary (${on.join(", ")}).`),
    { code: READ_ONLY_SERVER },
  );
}
