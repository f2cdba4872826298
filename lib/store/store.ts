/**
 * The seam between the session logic and a database. Methods are named for intent;
 * "not found" is `null` (or an empty list), and only real faults (a lost connection)
 * reject. A write whose outcome cannot be known (its COMMIT was sent and never
 * answered) rejects with an error whose `code` is {@link OUTCOME_UNKNOWN}: the caller
 * resolves it by reading, never by guessing.
 *
 * All times are milliseconds since the epoch. Implementations must treat every value
 * as data (placeholders only) and must not keep references to records they take or return.
 */
export interface SessionStore {
  /**
   * The longest one call may take (its deadline), if the store has one: a revocation is
   * stamped at most that long before it becomes visible, and other instances' polls
   * overlap by as much.
   */
  readonly callTimeoutMs?: number;
  /**
   * Makes the store usable: checks the schema and brings it up to date when it is
   * behind (unless the store was told never to run DDL). Idempotent; safe to run from
   * several instances at once.
   */
  init(): Promise<void>;
  /**
   * Inserts a new session row. With `maxSessionsPerUser`, in the same transaction, revokes
   * (at `at`) the user's least recently refreshed live sessions so that at most that many
   * stay live, and resolves to what it revoked.
   */
  createSession(record: SessionRecord, options?: CreateOptions): Promise<RevokedSession[]>;
  /** Reads one session by its handle (primary key), revoked or not. */
  findSession(handle: string): Promise<SessionRecord | null>;
  /**
   * Locks one session row, hands its current state to `decide`, applies the update it
   * returns, and commits — all or nothing. `decide` is synchronous and pure: a store
   * may call it again on a re-read row when a write conflict makes it retry.
   * A store shared by several processes passes `databaseNow`, the database's clock read
   * under the lock (ms), so that times instances compare with each other come from one
   * clock. Resolves to `null` when no row has that handle.
   */
  updateSession<T>(handle: string, decide: (current: SessionRecord, databaseNow?: number) => Decision<T>): Promise<T | null>;
  /** The database's clock (ms), for a store shared by several processes: each warns when its own clock is far from it. */
  databaseNow?(): Promise<number>;
  /**
   * Revokes every session of a user that is not revoked yet (expired ones too), but
   * `except`; resolves to what it revoked. Locks only that user's rows, and stamps them
   * with `clock()` read once their locks are held, so that the stamp is at most one call's
   * deadline older than the commit that makes it visible (the revocation poll's overlap).
   */
  revokeSessionsOfUser(userId: string, clock: () => number, options?: { except?: string }): Promise<RevokedSession[]>;
  /**
   * A page of a user's sessions that are neither revoked nor expired at `now`, oldest
   * first (by `createdAt`, then handle), strictly after `after`. Metadata only.
   */
  listForUser(userId: string, now: number, page: { limit: number; after?: ListPosition }): Promise<SessionMetadata[]>;
  /**
   * Sessions revoked at or after `since.revokedAt` (and, at that very millisecond, with a
   * handle after `since.handle`), ordered by revocation time then handle, at most `limit`.
   * The caller pages on from the last one it got.
   */
  listRevokedSince(since: RevocationPosition, limit: number): Promise<RevokedHandle[]>;
  /**
   * Deletes up to `limit` sessions that expired by `now`, soonest-expired first; resolves
   * to what went. Concurrent callers never delete (or report) the same row twice.
   * `expiresAt` never exceeds `absoluteExpiresAt` (the manager keeps it so), so a store
   * may test `expiresAt` alone.
   */
  deleteExpired(now: number, limit: number): Promise<ExpiredSession[]>;
  /**
   * Records that `key` was invalidated for `userId` at `at` (the latest time wins), and
   * removes the claim from the stored payloads of that user's sessions, so that every
   * access token signed from now on lacks it and the claim is fetched again.
   */
  invalidateClaim(userId: string, key: string, at: number): Promise<void>;
  /** Claim invalidations made at or after `since`. */
  listClaimInvalidationsSince(since: number): Promise<ClaimInvalidation[]>;
  /** Deletes claim invalidations made before `before`; resolves to how many went. */
  deleteClaimInvalidations(before: number): Promise<number>;
  /** All stored signing keys. */
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  /** Inserts a key unless one with the same `kid` exists (two instances may race). */
  insertSigningKey(key: SigningKeyRecord): Promise<void>;
  /** Deletes keys whose signing window ended before `signsUntilBefore`; resolves to how many went. */
  deleteRetiredKeys(signsUntilBefore: number): Promise<number>;
  /** Returns the named secret, storing `candidate` first if there is none yet. */
  getOrCreateSecret(name: string, candidate: Buffer): Promise<Buffer>;
  /** Releases connections the store opened itself. */
  close(): Promise<void>;
}

/** `code` of the error a store rejects with when a write may or may not have been committed. */
export const OUTCOME_UNKNOWN = "LATCHKEY_OUTCOME_UNKNOWN";

/** One row of the sessions table. */
export interface SessionRecord {
  handle: string;
  userId: string;
  /** SHA-256 of the current refresh token; the token itself is never stored. */
  refreshTokenHash: Buffer;
  /** SHA-256 of the token the last rotation replaced, kept for the grace window and theft detection. */
  prevRefreshTokenHash: Buffer | null;
  /**
   * SHA-256 of the lineage secret every refresh token of this session carries, so that a
   * token of this session that is no longer current is recognised as one (theft), however
   * many rotations old; `null` for sessions created before 0.2 until their next rotation.
   */
  lineageHash: Buffer | null;
  rotatedAt: number | null;
  /**
   * True when the client may never have received the current refresh token (its rotation
   * answered 503 with an unknown outcome and committed after all): presenting the previous
   * token then earns the current one again instead of counting as theft.
   */
  undelivered: boolean;
  accessTokenPayload: Record<string, unknown>;
  sessionData: Record<string, unknown>;
  createdAt: number;
  lastRefreshedAt: number;
  /** When the user last proved who they are (login or re-authentication). */
  authTime: number;
  /** Idle expiry: slides on every refresh, never past `absoluteExpiresAt`. */
  expiresAt: number;
  absoluteExpiresAt: number;
  /** This session's idle lifetime, when the login chose one; `null` uses `refreshTokenTtl`. */
  idleTtl: number | null;
  /** False for a "remember me: no" login: its cookies end with the browser session. */
  persistent: boolean;
  revokedAt: number | null;
  /** Where the session was created. */
  ip: string | null;
  userAgent: string | null;
  /** Where it was last refreshed from (`null` until its first refresh). */
  lastIp: string | null;
  lastUserAgent: string | null;
}

/** The columns `updateSession` may change. */
export type SessionUpdate = Partial<
  Pick<
    SessionRecord,
    | "refreshTokenHash"
    | "prevRefreshTokenHash"
    | "lineageHash"
    | "rotatedAt"
    | "undelivered"
    | "lastRefreshedAt"
    | "authTime"
    | "expiresAt"
    | "revokedAt"
    | "accessTokenPayload"
    | "sessionData"
    | "lastIp"
    | "lastUserAgent"
  >
>;

/** What `decide` returns: an optional update to apply, and the value `updateSession` resolves to. */
export interface Decision<T> {
  update?: SessionUpdate;
  result: T;
}

/** Options of `createSession`. */
export interface CreateOptions {
  /** Keep at most this many live sessions of the user, the new one included. */
  maxSessionsPerUser?: number;
  /** When evicted sessions count as revoked (the new session's `createdAt`). */
  at?: number;
}

/** A session's metadata, as listings show it: no payload, no session data, no hash. */
export type SessionMetadata = Pick<
  SessionRecord,
  | "handle"
  | "userId"
  | "createdAt"
  | "lastRefreshedAt"
  | "authTime"
  | "expiresAt"
  | "absoluteExpiresAt"
  | "persistent"
  | "ip"
  | "userAgent"
  | "lastIp"
  | "lastUserAgent"
>;

/** Where a page of `listForUser` starts: after this session. */
export type ListPosition = Pick<SessionRecord, "createdAt" | "handle">;

/** What a revocation reports of each session it revoked (for hooks and revocation lists). */
export type RevokedSession = Pick<SessionRecord, "handle" | "userId" | "ip" | "userAgent">;

/** What `deleteExpired` reports of each session it deleted (for the `onRevoked` "expiry" hook). */
export type ExpiredSession = Pick<SessionRecord, "handle" | "userId" | "revokedAt" | "ip" | "userAgent">;

export interface RevokedHandle {
  handle: string;
  revokedAt: number;
}

/** Where a page of `listRevokedSince` starts; `handle: ""` starts at the millisecond itself. */
export type RevocationPosition = RevokedHandle;

export interface ClaimInvalidation {
  userId: string;
  key: string;
  invalidatedAt: number;
}

/** One access-token signing key, as stored (PEM text, so every instance can load it). */
export interface SigningKeyRecord {
  kid: string;
  algorithm: "RS256" | "ES256";
  publicKey: string;
  privateKey: string;
  createdAt: number;
  signsFrom: number;
  signsUntil: number;
}
