import { createHash } from "node:crypto";
import type { RowDataPacket } from "mysql2/promise";
import { SUCCESSOR_SECRET } from "../../keys";
import type { MySqlStore } from "../../store/mysql";
import { CoreTables } from "./core-tables";
import { migratedLineage } from "./decide";

/** What `npx latchkey supertokens status` reports. */
export interface MigrationStatus {
  /** Core sessions (public tenant) whose `expires_at` has not passed: still to move, or to expire. */
  coreLive: number;
  /** Live latchkey sessions that were moved from the core. */
  migrated: number;
}

// Rows read per query while counting migrated sessions (keyset paging on the primary key).
const PAGE = 5000;

/**
 * Counts what is left of the migration. Reads only: the successor secret is read, never
 * created (a database without it has migrated nothing). A migrated session is told by its
 * lineage, which derives from its handle (see `migratedLineage`) and survives every rotation.
 */
export async function migrationStatus(store: MySqlStore, corePrefix: string, now: number): Promise<MigrationStatus> {
  const db = store.connector;
  const coreLive = await new CoreTables(db, corePrefix).countLive(now);
  const secrets = await db.run<RowDataPacket[]>(`SELECT value FROM \`${store.tablePrefix}secrets\` WHERE name = ?`, [SUCCESSOR_SECRET]);
  const secret = secrets[0]?.value;
  if (!secret) return { coreLive, migrated: 0 };
  let migrated = 0;
  let after = "";
  for (;;) {
    const rows = await db.run<RowDataPacket[]>(
      `SELECT session_handle, lineage_hash FROM \`${store.tablePrefix}sessions\`
       WHERE session_handle > ? AND revoked_at IS NULL AND expires_at > ? AND absolute_expires_at > ? ORDER BY session_handle LIMIT ${PAGE}`,
      [after, now, now],
    );
    for (const row of rows) {
      const handle = String(row.session_handle);
      const expected = createHash("sha256").update(migratedLineage(handle, Buffer.from(secret as Buffer))).digest();
      if (row.lineage_hash && expected.equals(Buffer.from(row.lineage_hash as Buffer))) migrated++;
    }
    if (rows.length < PAGE) return { coreLive, migrated };
    after = String(rows[rows.length - 1]?.session_handle);
  }
}

/** The status as the CLI prints it. */
export function statusText(status: MigrationStatus): string {
  const done =
    status.coreLive === 0
      ? "No SuperTokens session is live any more: migrateFromSuperTokens can be removed.\n"
      : "Keep migrateFromSuperTokens until no SuperTokens session is live (the core's refresh_token_validity after cutover, 100 days by default).\n";
  return `SuperTokens core sessions still live: ${status.coreLive}\nSessions moved to latchkey (live): ${status.migrated}\n${done}`;
}
