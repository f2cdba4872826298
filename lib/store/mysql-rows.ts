import type { RowDataPacket } from "mysql2/promise";
import type { SessionMetadata, SessionRecord, SessionUpdate } from "./store";

/** Every field of a session and its column: the one place camelCase meets snake_case. */
export const COLUMNS = {
  handle: "session_handle",
  userId: "user_id",
  refreshTokenHash: "refresh_token_hash",
  prevRefreshTokenHash: "prev_refresh_token_hash",
  lineageHash: "lineage_hash",
  rotatedAt: "rotated_at",
  undelivered: "undelivered",
  accessTokenPayload: "access_token_payload",
  sessionData: "session_data",
  createdAt: "created_at",
  lastRefreshedAt: "last_refreshed_at",
  authTime: "auth_time",
  expiresAt: "expires_at",
  absoluteExpiresAt: "absolute_expires_at",
  idleTtl: "idle_ttl",
  persistent: "persistent",
  revokedAt: "revoked_at",
  ip: "ip",
  userAgent: "user_agent",
  lastIp: "last_ip",
  lastUserAgent: "last_user_agent",
} as const satisfies Record<keyof SessionRecord, string>;

export const FIELDS = Object.keys(COLUMNS) as (keyof SessionRecord)[];
export const SELECT_LIST = FIELDS.map((field) => COLUMNS[field]).join(", ");

const METADATA_FIELDS = [
  "handle",
  "userId",
  "createdAt",
  "lastRefreshedAt",
  "authTime",
  "expiresAt",
  "absoluteExpiresAt",
  "persistent",
  "ip",
  "userAgent",
  "lastIp",
  "lastUserAgent",
] as const satisfies readonly (keyof SessionMetadata)[];
export const METADATA_LIST = METADATA_FIELDS.map((field) => COLUMNS[field]).join(", ");

const JSON_FIELDS: ReadonlySet<string> = new Set(["accessTokenPayload", "sessionData"]);

export function toColumn(field: keyof SessionRecord, value: unknown): unknown {
  if (JSON_FIELDS.has(field)) return JSON.stringify(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  return value === undefined ? null : value;
}

/** `SET a = ?, b = ?` and its values, for an update of some columns. */
export function assignments(update: SessionUpdate): { sql: string; values: unknown[] } {
  const fields = Object.keys(update) as (keyof SessionUpdate)[];
  return {
    sql: fields.map((field) => `${COLUMNS[field]} = ?`).join(", "),
    values: fields.map((field) => toColumn(field, update[field])),
  };
}

export function toRecord(row: RowDataPacket): SessionRecord {
  return {
    ...toMetadata(row),
    refreshTokenHash: Buffer.from(row.refresh_token_hash as Buffer),
    prevRefreshTokenHash: nullableBuffer(row.prev_refresh_token_hash),
    lineageHash: nullableBuffer(row.lineage_hash),
    rotatedAt: nullableNumber(row.rotated_at),
    undelivered: Boolean(Number(row.undelivered)),
    // MariaDB returns JSON columns as text, MySQL as parsed values.
    accessTokenPayload: parseJson(row.access_token_payload),
    sessionData: parseJson(row.session_data),
    idleTtl: nullableNumber(row.idle_ttl),
    revokedAt: nullableNumber(row.revoked_at),
  };
}

export function toMetadata(row: RowDataPacket): SessionMetadata {
  const createdAt = Number(row.created_at);
  return {
    handle: String(row.session_handle),
    userId: text(row.user_id),
    createdAt,
    lastRefreshedAt: Number(row.last_refreshed_at),
    // Rows from before auth_time existed were authenticated when they were created.
    authTime: row.auth_time === null || row.auth_time === undefined ? createdAt : Number(row.auth_time),
    expiresAt: Number(row.expires_at),
    absoluteExpiresAt: Number(row.absolute_expires_at),
    persistent: Boolean(Number(row.persistent)),
    ip: nullableText(row.ip),
    userAgent: nullableText(row.user_agent),
    lastIp: nullableText(row.last_ip),
    lastUserAgent: nullableText(row.last_user_agent),
  };
}

// VARBINARY columns arrive as Buffers of UTF-8.
export function text(value: unknown): string {
  return Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
}

export function nullableText(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

export function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function nullableBuffer(value: unknown): Buffer | null {
  return value ? Buffer.from(value as Buffer) : null;
}

function parseJson(value: unknown): Record<string, unknown> {
  if (typeof value === "string") return JSON.parse(value) as Record<string, unknown>;
  if (Buffer.isBuffer(value)) return JSON.parse(value.toString("utf8")) as Record<string, unknown>;
  return (value ?? {}) as Record<string, unknown>;
}
