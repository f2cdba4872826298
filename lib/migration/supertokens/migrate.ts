import type { RowDataPacket } from "mysql2/promise";
import { SessionError, storeUnavailable } from "../../errors";
import type { ClientInfo } from "../../hooks";
import type { IssuedSession, SessionManager } from "../../manager";
import { fetchMissingClaims } from "../../sessions/claims";
import { FIELDS, SELECT_LIST, toColumn, toRecord } from "../../store/mysql-rows";
import { OUTCOME_UNKNOWN, type SessionRecord } from "../../store/store";
import { hashLineage, hashRefreshToken } from "../../tokens/refresh";
import { RESERVED_CLAIMS } from "../../tokens/reserved";
import { verifyCoreAccessToken } from "./access-token";
import type { CoreRow } from "./core-tables";
import { decideCore, type CoreDecision, type Successor } from "./decide";
import { decryptCoreRefreshToken, type CoreRefreshToken } from "./refresh-token";
import type { CoreMigration } from "./state";

// The core's refresh_token_rotation_grace_period default (12.1): it lives in the core's
// config, not in its database.
const CORE_GRACE_MS = 30_000;
// Latchkey's refresh-token grammar wants a 36-character handle: a UUIDv4, which public-tenant
// handles are (others carry a "_<tenantId>" suffix).
const PUBLIC_HANDLE = /^[0-9a-f-]{36}$/;

/** How the request presented the core refresh token. */
export interface CoreRefreshRequest {
  token: string;
  /** `anti-csrf` header, checked against the token's value under `antiCsrf: "VIA_TOKEN"` (cookie mode). */
  antiCsrfHeader: string | undefined;
  cookieMode: boolean;
  client: ClientInfo;
  /** The core access tokens sent along (cookie mode): the user id the app saw is theirs. */
  accessTokens: readonly string[];
}

/**
 * Refreshes with a core refresh token (reference B.7): decrypt, then decide and apply in
 * one transaction that locks the core row, then latchkey's row, of the token's handle.
 * A migration inserts latchkey's row and deletes the core row; the answer is latchkey's
 * tokens, and `onRefreshed` carries `migrated: true`.
 */
export async function refreshCoreSession(manager: SessionManager, migration: CoreMigration, request: CoreRefreshRequest): Promise<IssuedSession> {
  await manager.freshKeys();
  const masterKey = await guard(manager, "read the SuperTokens refresh-token key", () => migration.masterKey(manager.now()));
  if (masterKey === undefined) throw new SessionError("UNAUTHORISED", "the SuperTokens core has no refresh_token_key");
  const token = decryptCoreRefreshToken(request.token, masterKey);
  if (!token) throw new SessionError("UNAUTHORISED", "SuperTokens refresh token does not decrypt");
  if ((token.tenantId !== undefined && token.tenantId !== "public") || !PUBLIC_HANDLE.test(token.handle)) {
    manager.diagnostics.warnThrottled(
      "supertokens-tenant",
      "migrateFromSuperTokens: a SuperTokens session of a tenant other than public was refused (only the public tenant is migrated); that user signs in again",
    );
    throw new SessionError("UNAUTHORISED", "SuperTokens session of another tenant");
  }
  if (migration.options.antiCsrf === "VIA_TOKEN" && request.cookieMode && token.antiCsrfToken !== undefined && request.antiCsrfHeader !== token.antiCsrfToken) {
    throw new SessionError("UNAUTHORISED", "anti-csrf header does not match the SuperTokens refresh token");
  }

  const userId = await userIdSeen(manager, migration, token, request.accessTokens);
  let decision: Applied;
  try {
    decision = await run(manager, migration, token, request.client, false, userId);
  } catch (error) {
    if ((error as { code?: unknown }).code !== OUTCOME_UNKNOWN) throw fault(manager, error);
    // The COMMIT's answer was lost: decide again under the locks. If the migration landed,
    // rule 5 hands out the same successor, whatever the grace window says.
    try {
      decision = await run(manager, migration, token, request.client, true, userId);
    } catch (again) {
      throw fault(manager, again);
    }
  }

  if (decision.kind === "refused") throw new SessionError("UNAUTHORISED", decision.reason);
  if (decision.kind === "theft" || decision.kind === "core-theft") {
    const record = decision.kind === "theft" ? decision.record : undefined;
    const row = decision.kind === "theft" ? decision.record : { handle: decision.row.handle, userId: decision.row.userId, ip: null, userAgent: null };
    manager.revoked([row], manager.now(), "theft", request.client);
    manager.log.warn(`SuperTokens refresh token reuse detected (${decision.reason}); session ${row.handle} revoked`);
    // What the core knew of the holder is nothing: it kept no device, and no rotation time before 12.1.
    const event = {
      ...manager.event(row, request.client),
      holderIp: record ? (record.lastIp ?? record.ip) : null,
      holderUserAgent: record ? (record.lastUserAgent ?? record.userAgent) : null,
      supersededAt: record ? record.rotatedAt : null,
      replayed: "older" as const,
    };
    manager.emit("onTheftDetected", event);
    throw new SessionError("TOKEN_THEFT_DETECTED", decision.reason);
  }
  const record = await fetchMissingClaims(manager, decision.record);
  manager.emit("onRefreshed", { ...manager.event(record, request.client), migrated: true });
  return { record, refreshToken: decision.successor.token, ...manager.sign(record) };
}

type Applied = Exclude<CoreDecision, { kind: "migrate" }> | { kind: "migrated"; record: SessionRecord; successor: Successor };

async function run(
  manager: SessionManager,
  migration: CoreMigration,
  token: CoreRefreshToken,
  client: ClientInfo,
  resolving: boolean,
  userId: string | undefined,
): Promise<Applied> {
  const schema = await migration.tables.schema();
  const { options } = manager;
  return migration.db.transaction(async (tx) => {
    const now = manager.now();
    // The core row first: a second migration of the same session waits here, then finds the
    // core row gone and latchkey's row in its place (rule 5), never a half-done state.
    const core = await migration.tables.lockRow(tx, schema, token.handle);
    const rows = await tx.execute<RowDataPacket[]>(`SELECT ${SELECT_LIST} FROM ${migration.sessionsTable} WHERE session_handle = ? FOR UPDATE`, [token.handle]);
    const latchkey = rows[0] ? toRecord(rows[0]) : null;
    const decision = decideCore(token, core, latchkey, {
      now,
      graceMs: options.refreshGraceMs,
      coreGraceMs: CORE_GRACE_MS,
      secret: manager.keys.successorSecret,
      resolving,
    });
    // Both stores hold the session only if a migration was cut short: latchkey's row wins.
    if (core && (latchkey || decision.kind !== "refused")) await migration.tables.deleteRow(tx, schema, token.handle);
    if (decision.kind === "theft") {
      await tx.execute(`UPDATE ${migration.sessionsTable} SET revoked_at = ? WHERE session_handle = ?`, [now, token.handle]);
      return { ...decision, record: { ...decision.record, revokedAt: now } };
    }
    if (decision.kind !== "migrate") return decision;
    const record = migratedRecord(manager, migration, core as CoreRow, decision.anchor, decision.successor, client, now);
    if (userId !== undefined) record.userId = userId;
    await tx.execute(
      `INSERT INTO ${migration.sessionsTable} (${SELECT_LIST}) VALUES (${FIELDS.map(() => "?").join(", ")})`,
      FIELDS.map((field) => toColumn(field, record[field])),
    );
    return { kind: "migrated", record, successor: decision.successor };
  });
}

/**
 * The user id the app saw for this session: `sub` of a core access token of the same session
 * that the request carries, its signature checked (expiry ignored). With account linking it
 * is the primary user, where `session_info.user_id` is the recipe user. `undefined` (use the
 * row's) without one, or when the core's keys cannot be read (the key tables not granted).
 */
async function userIdSeen(manager: SessionManager, migration: CoreMigration, token: CoreRefreshToken, accessTokens: readonly string[]): Promise<string | undefined> {
  if (accessTokens.length === 0) return undefined;
  let keys;
  try {
    keys = await migration.keys(manager.now());
  } catch (error) {
    manager.diagnostics.debug(`migrateFromSuperTokens: the core's signing keys could not be read (${(error as Error).message}); the user id is session_info's`);
    return undefined;
  }
  for (const accessToken of accessTokens) {
    try {
      const info = verifyCoreAccessToken(accessToken, keys, manager.now(), { ignoreExpiry: true });
      if (info.handle === token.handle) return info.userId;
    } catch {
      // Not a token of this session, or not the core's: it says nothing about the user.
    }
  }
  return undefined;
}

/**
 * latchkey's row for a core session. The anchor goes in `prev_refresh_token_hash` with
 * `rotated_at` = now: rule 5 recognises a second presentation by it, and no latchkey token
 * can hash to it (a SHA-256 of hex text, where latchkey hashes its own token grammar), so a
 * 0.2 instance sees an ordinary rotated row and refreshes its token as usual.
 */
function migratedRecord(
  manager: SessionManager,
  migration: CoreMigration,
  core: CoreRow,
  anchor: Buffer,
  successor: Successor,
  client: ClientInfo,
  now: number,
): SessionRecord {
  const { options } = manager;
  // The core has no absolute lifetime: an old session keeps at least minRemainingLifetime.
  const absoluteExpiresAt = Math.max(core.createdAt + options.absoluteTtlMs, now + migration.options.minRemainingMs);
  return {
    handle: core.handle,
    userId: core.userId,
    refreshTokenHash: hashRefreshToken(successor.token),
    prevRefreshTokenHash: anchor,
    lineageHash: hashLineage(successor.lineage),
    rotatedAt: now,
    undelivered: false,
    accessTokenPayload: userPayload(core.payload),
    sessionData: jsonObject(core.sessionData),
    createdAt: core.createdAt,
    lastRefreshedAt: now,
    authTime: core.createdAt,
    expiresAt: Math.min(now + options.refreshTokenTtlMs, absoluteExpiresAt),
    absoluteExpiresAt,
    idleTtl: null,
    persistent: true,
    revokedAt: null,
    ip: null,
    userAgent: null,
    lastIp: client.ip,
    lastUserAgent: client.userAgent,
  };
}

// jwt_user_payload minus the claims latchkey owns (the SDK's "iss" among them); st-* claim
// objects stay, for the claim layer.
function userPayload(text: string | null): Record<string, unknown> {
  const payload = jsonObject(text);
  for (const name of Object.keys(payload)) if (RESERVED_CLAIMS.has(name)) delete payload[name];
  return payload;
}

function jsonObject(text: string | null): Record<string, unknown> {
  if (text === null) return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function guard<T>(manager: SessionManager, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw fault(manager, error, what);
  }
}

function fault(manager: SessionManager, error: unknown, what = "migrate a SuperTokens session"): SessionError {
  if (error instanceof SessionError) return error;
  manager.diagnostics.fault("supertokens", `could not ${what}`, error);
  return storeUnavailable(error);
}
