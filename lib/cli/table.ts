import type { ListedSession } from "../sessions/types";

const USER_AGENT_WIDTH = 48;

/** A user's sessions as an aligned table: one header line, one line per session. */
export function sessionTable(sessions: readonly ListedSession[]): string {
  const rows = sessions.map((session) => [
    session.handle,
    time(session.createdAt),
    time(session.lastRefreshedAt),
    time(session.expiresAt),
    printable(session.lastIp ?? session.ip ?? "-"),
    truncate(printable(session.lastUserAgent ?? session.userAgent ?? "-"), USER_AGENT_WIDTH),
  ]);
  return table(["handle", "created", "last refreshed", "expires", "ip", "user agent"], rows);
}

/** Columns padded to their widest cell, two spaces apart; no trailing spaces. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((cells) => (cells[column] ?? "").length)));
  return all.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd() + "\n").join("");
}

/** ISO 8601 in UTC, to the second. */
export function time(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

// User agents and forwarded addresses come from clients: no terminal control sequences.
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");
}
