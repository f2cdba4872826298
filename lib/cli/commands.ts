import { migrationStatus, statusText } from "../migration/supertokens/status";
import type { SessionManagement } from "../types/management";
import type { MySqlStore } from "../store/mysql";
import { schemaSql, SCHEMA_VERSION } from "../store/schema";
import type { CommandName } from "./help";
import type { Invocation } from "./parse";
import { keyStatuses, keyTable } from "./keys";
import { sessionTable, time } from "./table";

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

export interface Context {
  store: MySqlStore;
  manager: SessionManagement;
  /** The command's one argument ("" for commands without). */
  argument: string;
  invocation: Invocation;
  io: Output;
}

/** Exit code of a revoke that revoked nothing. */
export const NOTHING_REVOKED = 3;

/** `migrate --print [--from N]`: the SQL, without a database. */
export function printSchema(invocation: Invocation, prefix: string, io: Output): number {
  const from = Number(invocation.options.get("from") ?? 0);
  io.out(from === SCHEMA_VERSION ? `-- The schema is at version ${SCHEMA_VERSION} already: nothing to apply.\n` : schemaSql(prefix, from));
  return 0;
}

/**
 * Runs a command that uses the database; resolves to its exit code (faults reject). The
 * schema is checked first — and, for migrate alone, created or upgraded — so that every
 * command fails the same way on a database without (current) latchkey tables.
 */
export async function runCommand(name: CommandName, context: Context): Promise<number> {
  await context.store.init();
  return RUN[name](context);
}

const RUN: Record<CommandName, (context: Context) => Promise<number>> = {
  async migrate({ store, invocation, io }) {
    const { tablePrefix } = store;
    print(io, invocation, { schemaVersion: SCHEMA_VERSION, tablePrefix }, `Schema with prefix "${tablePrefix}" is at version ${SCHEMA_VERSION}.\n`);
    return 0;
  },

  async "sessions list"({ manager, argument, invocation, io }) {
    const limit = invocation.options.get("limit");
    const cursor = invocation.options.get("cursor");
    const sessions = await manager.listSessions(argument, {
      ...(typeof limit === "string" ? { limit: Number(limit) } : {}),
      ...(typeof cursor === "string" ? { cursor } : {}),
    });
    const { nextCursor } = sessions;
    const text = sessions.length === 0 ? `No live sessions for ${argument}.\n` : sessionTable(sessions);
    print(io, invocation, { sessions, nextCursor }, nextCursor ? `${text}Next cursor: ${nextCursor}\n` : text);
    return 0;
  },

  async "sessions revoke"({ manager, argument, invocation, io }) {
    const revoked = await manager.revokeSession(argument);
    print(io, invocation, { revoked }, revoked ? `Revoked session ${argument}.\n` : "");
    if (revoked) return 0;
    io.err(`latchkey: no live session ${argument}; nothing revoked.\n`);
    return NOTHING_REVOKED;
  },

  async "sessions revoke-user"({ manager, argument, invocation, io }) {
    const handles = await manager.revokeAllSessionsForUser(argument);
    print(io, invocation, { revoked: handles }, handles.length > 0 ? `Revoked ${handles.length} session(s) of ${argument}.\n` : "");
    if (handles.length > 0) return 0;
    io.err(`latchkey: ${argument} has no live sessions; nothing revoked.\n`);
    return NOTHING_REVOKED;
  },

  async cleanup({ manager, invocation, io }) {
    const json = invocation.options.has("json");
    const result = await manager.cleanup({
      batchSize: 1000,
      onProgress: (deleted) => {
        if (!json) io.err(`deleted ${deleted} expired sessions...\n`);
      },
    });
    print(io, invocation, result, `Deleted ${result.sessions} expired session(s) and ${result.keys} retired signing key(s).\n`);
    return 0;
  },

  async "keys list"({ store, invocation, io }) {
    // Straight from the table: loading a key ring would create a key when one is due.
    const now = Date.now();
    const listed = keyStatuses(await store.listSigningKeys(), now);
    print(io, invocation, listed, keyTable(listed, now));
    return 0;
  },

  async "supertokens status"({ store, invocation, io }) {
    const core = invocation.options.get("core-prefix");
    const prefix = typeof core === "string" ? core : "";
    if (!/^[A-Za-z0-9_]{0,40}$/.test(prefix)) {
      io.err(`latchkey: --core-prefix must be up to 40 letters, digits or underscores (got ${JSON.stringify(prefix.slice(0, 60))}).\n`);
      return 2;
    }
    const status = await migrationStatus(store, prefix, Date.now());
    print(io, invocation, status, statusText(status));
    return 0;
  },

  async "keys rotate"({ manager, invocation, io }) {
    const key = await manager.rotateKeys();
    print(io, invocation, key, `Published signing key ${key.kid}; it signs from ${time(key.signsFrom)}.\n`);
    return 0;
  },
};

function print(io: Output, invocation: Invocation, value: unknown, text: string): void {
  if (invocation.options.has("json")) io.out(`${JSON.stringify(value, null, 2)}\n`);
  else if (text) io.out(text);
}
