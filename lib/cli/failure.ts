import { SessionError } from "../errors";
import { SCHEMA_NOT_READY } from "../store/migrate";
import { redactUri } from "../store/mysql";
import { READ_ONLY_SERVER } from "../store/mysql-server";
import { SCHEMA_VERSION } from "../store/schema";
import { UsageError } from "./parse";

export interface Failure {
  exitCode: 1 | 2;
  message: string;
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "ECONNRESET",
  "PROTOCOL_CONNECTION_LOST",
  "LATCHKEY_TIMEOUT",
]);

/**
 * What a failed command tells its user, and its exit code: 2 for the caller's mistakes
 * (usage, a bad URL or argument), 1 when the database cannot be used — with the URL,
 * its password redacted, and which of unreachable, refused, no or outdated tables.
 */
export function describeFailure(error: unknown, where: { url: string; prefix: string }): Failure {
  if (error instanceof UsageError || error instanceof TypeError) return { exitCode: 2, message: withoutTag(error.message) };
  const cause = (error instanceof SessionError && error.code === "STORE_UNAVAILABLE" ? error.cause : error) as
    | { code?: unknown; message?: unknown; schemaVersion?: unknown }
    | undefined;
  const database = redactUri(where.url);
  const message = typeof cause?.message === "string" ? cause.message : "";
  if (cause?.code === SCHEMA_NOT_READY) {
    const version = typeof cause.schemaVersion === "number" ? cause.schemaVersion : Number(/schema version (\d+)/.exec(message)?.[1] ?? 0);
    const prefix = JSON.stringify(where.prefix);
    return {
      exitCode: 1,
      message:
        version === 0
          ? `no latchkey tables with prefix ${prefix} in ${database}: create them with \`npx latchkey migrate\` ` +
            "(or apply the SQL of `npx latchkey migrate --print`)."
          : `the latchkey tables with prefix ${prefix} in ${database} are at schema version ${version}, and this latchkey needs ` +
            `version ${SCHEMA_VERSION}: upgrade them with \`npx latchkey migrate\` (or apply the SQL of \`npx latchkey migrate --print --from ${version}\`).`,
    };
  }
  const code = typeof cause?.code === "string" ? cause.code : undefined;
  // It names the fix already; the URL is the one it says to change.
  if (code === READ_ONLY_SERVER) return { exitCode: 1, message: `${withoutTag(message)} URL: ${database}.` };
  if (code === undefined) return { exitCode: 1, message: withoutTag(message || String(error)) };
  const detail = [code, message].filter(Boolean).join(": ");
  const hint = UNREACHABLE.has(code)
    ? ": unreachable (is it running, and reachable from here?)"
    : /ACCESS_DENIED/.test(code)
      ? ": refused (check the user, its password and its grants)"
      : code === "ER_BAD_DB_ERROR"
        ? ": no such database"
        : "";
  return { exitCode: 1, message: `cannot use the database at ${database} (${detail})${hint}.` };
}

// Library messages start with "latchkey: "; the CLI adds its own.
function withoutTag(message: string): string {
  return message.replace(/^latchkey: /, "");
}
