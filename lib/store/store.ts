/**
 * The seam between the session logic and a database. Methods are named for intent;
 * "not found" is `null` (or `false`), and only real faults (a lost connection) reject.
 *
 * All times are milliseconds since the epoch. Implementations must treat every value
 * as data (placeholders only) and must not keep references to records they return.
 */
export interface SessionStore {
  /** Prepares the store (e.g. runs migrations). Idempotent; called before first use. */
  init(): Promise<void>;
  /** Inserts a new session row. */
  createSession(record: SessionRecord): Promise<void>;
  /** Reads one session by its handle (primary key), revoked or not. */
  findSession(handle: string): Promise<SessionRecord | null>;
  /**
   * Locks one session row, hands its current state to `decide`, applies the update it
   * returns, and commits — all or nothing. `decide` is synchronous and pure, so the
   * same rotation rules run under a MySQL row lock or inside one event-loop turn.
   * Resolves to `null` when no row has that handle.
   */
  updateSession<T>(handle: string, decide: (current: SessionRecord) => Decision<T>): Promise<T | null>;
  /** Marks every session of a user that is not revoked yet (expired ones too) revoked; resolves to the handles it revoked. */
  revokeAllForUser(userId: string, at: number): Promise<string[]>;
  /** Sessions of a user that are neither revoked nor expired at `now`, oldest first. */
  listForUser(userId: string, now: number): Promise<SessionRecord[]>;
  /**
   * Handles revoked at or after `since`, oldest first, for instances that must refuse
   * their access tokens. May return a page of at most 10,000; the caller asks again from
   * the last `revokedAt`.
   */
  listRevokedSince(since: number): Promise<RevokedHandle[]>;
  /**
   * Deletes up to `limit` sessions that expired by `now`, soonest-expired first; resolves
   * to what went. `expiresAt` never exceeds `absoluteExpiresAt` (the manager keeps it so),
   * so a store may test `expiresAt` alone.
   */
  deleteExpired(now: number, limit: number): Promise<ExpiredSession[]>;
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

/** One row of the sessions table. */
export interface SessionRecord {
  handle: string;
  userId: string;
  /** SHA-256 of the current refresh token; the token itself is never stored. */
  refreshTokenHash: Buffer;
  /** SHA-256 of the token the last rotation replaced, kept for the grace window and theft detection. */
  prevRefreshTokenHash: Buffer | null;
  rotatedAt: number | null;
  accessTokenPayload: Record<string, unknown>;
  sessionData: Record<string, unknown>;
  createdAt: number;
  lastRefreshedAt: number;
  /** Idle expiry: slides on every refresh, never past `absoluteExpiresAt`. */
  expiresAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | null;
  ip: string | null;
  userAgent: string | null;
}

/** The columns `updateSession` may change. */
export type SessionUpdate = Partial<
  Pick<
    SessionRecord,
    | "refreshTokenHash"
    | "prevRefreshTokenHash"
    | "rotatedAt"
    | "lastRefreshedAt"
    | "expiresAt"
    | "revokedAt"
    | "accessTokenPayload"
    | "sessionData"
  >
>;

/** What `decide` returns: an optional update to apply, and the value `updateSession` resolves to. */
export interface Decision<T> {
  update?: SessionUpdate;
  result: T;
}

/** What `deleteExpired` reports of each session it deleted (for the `onRevoked` "expiry" hook). */
export type ExpiredSession = Pick<SessionRecord, "handle" | "userId" | "revokedAt" | "ip" | "userAgent">;

export interface RevokedHandle {
  handle: string;
  revokedAt: number;
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
