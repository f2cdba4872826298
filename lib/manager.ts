import { storeUnavailable, SessionError } from "./errors";
import { fireHook, type RevokeReason, type SessionEvent } from "./hooks";
import { KeyRing } from "./keys";
import { resolveLogger, type Logger } from "./logger";
import type { ResolvedOptions } from "./options";
import { RevocationList } from "./revocations";
import { VerifiedTokenCache } from "./verified-cache";
import type { Decision, SessionRecord, SessionStore, SessionUpdate } from "./store/store";
import { MAX_ACCESS_TOKEN_LENGTH, signAccessToken, verifyAccessToken, type AccessClaims, type TokenSettings } from "./tokens/access";
import { handleOf, hashRefreshToken, newRefreshToken, newSessionHandle, sameHash, successorOf } from "./tokens/refresh";
import { checkHandle, checkPayload, checkSessionData, checkUserId } from "./validate";

/** Tokens and state handed out by a create or a refresh. */
export interface IssuedSession {
  record: SessionRecord;
  accessToken: string;
  refreshToken: string;
  claims: AccessClaims;
}

/** A session as the management API shows it: never a token or a hash. */
export interface SessionInformation {
  handle: string;
  userId: string;
  accessTokenPayload: Record<string, unknown>;
  sessionData: Record<string, unknown>;
  createdAt: number;
  lastRefreshedAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | null;
  ip: string | null;
  userAgent: string | null;
}

/** A session as {@link SessionManager.listSessions} shows it. */
export interface ListedSession extends SessionInformation {
  /** Whether this is the session of the request that asked. */
  current: boolean;
}

export interface RequestMetadata {
  ip: string | null;
  userAgent: string | null;
}

type RefreshOutcome =
  | { kind: "issued"; token: string; record: SessionRecord; rotated: boolean }
  | { kind: "refused"; reason: string }
  | { kind: "theft"; record: SessionRecord };

/**
 * The session logic, independent of Express: create, refresh with rotation and theft
 * detection, verify, revoke. The middleware wraps it in HTTP; scripts can use it as is.
 */
export class SessionManager {
  readonly options: ResolvedOptions;
  readonly store: SessionStore;
  readonly keys: KeyRing;
  readonly revocations: RevocationList;
  readonly log: Logger;
  readonly #tokenSettings: TokenSettings;
  readonly #verified: VerifiedTokenCache;
  #ready: Promise<void> | undefined;
  #timers: NodeJS.Timeout[] = [];

  constructor(options: ResolvedOptions, store: SessionStore) {
    this.options = options;
    this.store = store;
    this.log = resolveLogger(options.logger);
    this.keys = new KeyRing(store, {
      algorithm: options.algorithm,
      rotationMs: options.keyRotationMs,
      accessTokenTtlMs: options.accessTokenTtlMs,
      clock: options.clock,
    });
    this.revocations = new RevocationList(options.accessTokenTtlMs, options.clock);
    this.#tokenSettings = { issuer: options.issuer, audience: options.audience };
    this.#verified = new VerifiedTokenCache(options.verifyCacheSize);
  }

  /**
   * Migrates the store and loads the keys, once. A failure (database down at start-up)
   * is not remembered: the next call tries again, so service resumes by itself.
   */
  ready(): Promise<void> {
    this.#ready ??= (async () => {
      try {
        await this.store.init();
        await this.keys.load();
      } catch (error) {
        this.#ready = undefined;
        this.log.error("could not prepare the session store", error);
        throw storeUnavailable(error);
      }
      this.#startBackgroundWork();
    })();
    return this.#ready;
  }

  // Signing paths re-read the keys when they may be out of date, so an instance whose
  // reload timer missed a rotation never signs with a key the others have retired.
  async #freshKeys(): Promise<void> {
    await this.ready();
    if (!this.keys.stale) return;
    try {
      await this.keys.load();
    } catch (error) {
      this.log.error("could not reload signing keys", error);
      throw storeUnavailable(error);
    }
  }

  /** Creates a session row, then signs its tokens. Rejects, having issued nothing, if the row cannot be written. */
  async createSession(
    userId: unknown,
    input: { accessTokenPayload?: unknown; sessionData?: unknown },
    metadata: RequestMetadata,
  ): Promise<IssuedSession> {
    const record = this.#newRecord(checkUserId(userId), checkPayload(input.accessTokenPayload), checkSessionData(input.sessionData), metadata);
    const refreshToken = newRefreshToken(record.handle);
    record.refreshTokenHash = hashRefreshToken(refreshToken);
    await this.#freshKeys();
    // Signed before the insert: a token that cannot be issued (too large for a cookie)
    // fails the call without leaving a row behind.
    const signed = this.#signFor(record);
    try {
      await this.store.createSession(record);
    } catch (error) {
      this.log.error("could not store a new session", error);
      throw storeUnavailable(error);
    }
    fireHook(this.log, "onSessionCreated", this.options.onSessionCreated, eventOf(record));
    return { record, refreshToken, ...signed };
  }

  /**
   * Rotates a refresh token. The presented token is compared with the current hash, or
   * with the previous one inside the grace window (same successor again); a previous
   * token after the window is theft and revokes the session.
   */
  async refresh(presented: string | undefined): Promise<IssuedSession> {
    const handle = presented === undefined ? undefined : handleOf(presented);
    if (presented === undefined || handle === undefined) throw new SessionError("UNAUTHORISED", "no refresh token");
    await this.#freshKeys();
    let outcome: RefreshOutcome | null;
    try {
      outcome = await this.store.updateSession(handle, (row) => this.#decideRefresh(row, presented));
    } catch (error) {
      this.log.error("could not refresh a session", error);
      throw storeUnavailable(error);
    }
    if (outcome === null) throw new SessionError("UNAUTHORISED", "unknown session");
    if (outcome.kind === "refused") throw new SessionError("UNAUTHORISED", outcome.reason);
    if (outcome.kind === "theft") {
      this.revocations.add(handle, outcome.record.revokedAt ?? this.options.clock());
      this.log.warn(`refresh token reuse detected; session ${handle} revoked`);
      fireHook(this.log, "onTheftDetected", this.options.onTheftDetected, eventOf(outcome.record));
      fireHook(this.log, "onRevoked", this.options.onRevoked, { ...eventOf(outcome.record), reason: "theft" });
      throw new SessionError("TOKEN_THEFT_DETECTED", "a rotated refresh token was reused");
    }
    fireHook(this.log, "onRefreshed", this.options.onRefreshed, eventOf(outcome.record));
    return { record: outcome.record, refreshToken: outcome.token, ...this.#signFor(outcome.record) };
  }

  /** Verifies an access token with no I/O (keys must be loaded: see {@link ready}). */
  verify(accessToken: string): AccessClaims {
    const now = this.options.clock();
    let claims = this.#verified.get(accessToken, now);
    if (claims === undefined) {
      claims = verifyAccessToken(accessToken, this.keys, this.#tokenSettings, now);
      this.#verified.set(accessToken, claims);
    }
    if (this.revocations.has(claims.sid)) throw new SessionError("UNAUTHORISED", "session revoked");
    return claims;
  }

  /** One primary-key read: is this session still live? (`checkDatabase: true`) */
  async assertLive(handle: string): Promise<void> {
    let row: SessionRecord | null;
    try {
      row = await this.store.findSession(handle);
    } catch (error) {
      this.log.error("could not read a session", error);
      throw storeUnavailable(error);
    }
    if (!row || row.revokedAt !== null || !isLive(row, this.options.clock())) {
      if (row?.revokedAt != null) this.revocations.add(handle, row.revokedAt);
      throw new SessionError("UNAUTHORISED", "session revoked or expired");
    }
  }

  /** Signs an access token for a session; `exp` (seconds) keeps an existing token's expiry. */
  signFor(
    session: Pick<SessionRecord, "userId" | "handle" | "accessTokenPayload" | "absoluteExpiresAt">,
    exp?: number,
  ): { accessToken: string; claims: AccessClaims } {
    return this.#signFor(session, exp);
  }

  /** Revokes one session. Resolves `false` for unknown or already revoked handles. */
  async revokeSession(handle: unknown, reason: RevokeReason = "admin"): Promise<boolean> {
    const valid = checkHandle(handle);
    if (!valid) return false;
    const now = this.options.clock();
    const revoked = await this.#guard(() =>
      this.store.updateSession(valid, (row) =>
        row.revokedAt === null ? { update: { revokedAt: now }, result: row } : { result: null },
      ),
    );
    if (!revoked) return false;
    this.revocations.add(valid, now);
    fireHook(this.log, "onRevoked", this.options.onRevoked, { ...eventOf(revoked), reason });
    return true;
  }

  /** Revokes every live session of a user ("sign out everywhere"); resolves to the handles revoked. */
  async revokeAllSessionsForUser(userId: unknown): Promise<string[]> {
    const user = checkUserId(userId);
    const now = this.options.clock();
    const handles = await this.#guard(() => this.store.revokeAllForUser(user, now));
    for (const handle of handles) {
      this.revocations.add(handle, now);
      fireHook(this.log, "onRevoked", this.options.onRevoked, { handle, userId: user, ip: null, userAgent: null, reason: "revoke-all" });
    }
    return handles;
  }

  /** Everything known about one session, or `null` when the handle is unknown. */
  async getSessionInformation(handle: unknown): Promise<SessionInformation | null> {
    const valid = checkHandle(handle);
    if (!valid) return null;
    const row = await this.#guard(() => this.store.findSession(valid));
    return row ? informationOf(row) : null;
  }

  /** Handles of a user's live sessions. */
  async getAllSessionHandlesForUser(userId: unknown): Promise<string[]> {
    return (await this.listSessions(userId)).map((session) => session.handle);
  }

  /**
   * A user's live sessions with device metadata, oldest first. Pass the handle of the
   * session asking (`req.session.handle`) to have it marked `current`.
   */
  async listSessions(userId: unknown, options: { currentHandle?: string } = {}): Promise<ListedSession[]> {
    const user = checkUserId(userId);
    const rows = await this.#guard(() => this.store.listForUser(user, this.options.clock()));
    return rows.map((row) => ({ ...informationOf(row), current: row.handle === options.currentHandle }));
  }

  /** Replaces a live session's server-side data. Resolves `false` for unknown or ended sessions. */
  async updateSessionData(handle: unknown, data: unknown): Promise<boolean> {
    const sessionData = checkSessionData(data);
    return (await this.#updateLive(handle, () => ({ sessionData }))) !== null;
  }

  /**
   * Merges `update` into a live session's stored access-token payload (`null` deletes a key).
   * Clients see it in their next access token, at the next refresh.
   */
  async mergeIntoAccessTokenPayload(handle: unknown, update: unknown): Promise<boolean> {
    return (await this.updateAccessTokenPayload(handle, update)) !== null;
  }

  /** As {@link mergeIntoAccessTokenPayload}, resolving to the updated session (or `null`). */
  async updateAccessTokenPayload(handle: unknown, update: unknown): Promise<SessionRecord | null> {
    const changes = checkPayload(update);
    return this.#updateLive(handle, (row) => {
      const accessTokenPayload = mergePayload(row.accessTokenPayload, changes);
      // Every refresh signs this payload: refuse one that could not be issued, before it is stored.
      this.#signFor({ ...row, accessTokenPayload });
      return { accessTokenPayload };
    });
  }

  /** Revokes every other live session of the user who owns `currentHandle`. */
  async revokeOtherSessions(currentHandle: unknown): Promise<string[]> {
    const current = await this.getSessionInformation(currentHandle);
    // Only a live session may end its siblings: a revoked or expired handle ends nothing.
    if (!current || current.revokedAt !== null || !isLive(current, this.options.clock())) return [];
    const revoked: string[] = [];
    for (const session of await this.listSessions(current.userId)) {
      if (session.handle !== current.handle && (await this.revokeSession(session.handle, "admin"))) revoked.push(session.handle);
    }
    return revoked;
  }

  /**
   * Deletes expired sessions in small batches (so no single statement holds locks for
   * long), then signing keys that can no longer verify anything.
   */
  async cleanup(options: { batchSize?: number; maxBatches?: number; onProgress?: (deleted: number) => void } = {}): Promise<CleanupResult> {
    const batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new TypeError(`latchkey: cleanup batchSize must be a positive whole number (got ${String(batchSize)}).`);
    }
    const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
    let sessions = 0;
    for (let batch = 0; batch < maxBatches; batch++) {
      const deleted = await this.#guard(() => this.store.deleteExpired(this.options.clock(), batchSize));
      sessions += deleted.length;
      for (const row of deleted) {
        // Sessions that were revoked earlier already had their onRevoked.
        if (row.revokedAt === null) fireHook(this.log, "onRevoked", this.options.onRevoked, { ...eventOf(row), reason: "expiry" });
      }
      if (deleted.length > 0) options.onProgress?.(sessions);
      if (deleted.length < batchSize) break;
      // Yield between batches so requests sharing the pool and the table go first.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const keys = await this.#guard(() => this.keys.deleteRetired());
    return { sessions, keys };
  }

  /** Publishes a new signing key now; it signs once every instance has loaded it. */
  async rotateKeys(): Promise<{ kid: string; signsFrom: number }> {
    return this.#guard(() => this.keys.rotateNow());
  }

  /** Stops background timers and closes the store's own connections. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.store.close();
  }

  #newRecord(
    userId: string,
    accessTokenPayload: Record<string, unknown>,
    sessionData: Record<string, unknown>,
    metadata: RequestMetadata,
  ): SessionRecord {
    const now = this.options.clock();
    const absoluteExpiresAt = now + this.options.absoluteTtlMs;
    return {
      handle: newSessionHandle(),
      userId,
      refreshTokenHash: Buffer.alloc(32),
      prevRefreshTokenHash: null,
      rotatedAt: null,
      accessTokenPayload,
      sessionData,
      createdAt: now,
      lastRefreshedAt: now,
      expiresAt: Math.min(now + this.options.refreshTokenTtlMs, absoluteExpiresAt),
      absoluteExpiresAt,
      revokedAt: null,
      ip: metadata.ip?.slice(0, 64) ?? null,
      userAgent: metadata.userAgent?.slice(0, 512) ?? null,
    };
  }

  // Runs under the row lock (or inside one event-loop turn for the memory store):
  // synchronous and free of I/O, so the lock is held for microseconds.
  #decideRefresh(row: SessionRecord, presented: string): Decision<RefreshOutcome> {
    const now = this.options.clock();
    if (row.revokedAt !== null) return { result: { kind: "refused", reason: "session revoked" } };
    if (!isLive(row, now)) return { result: { kind: "refused", reason: "session expired" } };
    const hash = hashRefreshToken(presented);
    const secret = this.keys.successorSecret;
    if (sameHash(row.refreshTokenHash, hash)) {
      const token = successorOf(presented, row.handle, secret);
      const update = {
        refreshTokenHash: hashRefreshToken(token),
        prevRefreshTokenHash: hash,
        rotatedAt: now,
        lastRefreshedAt: now,
        expiresAt: Math.min(now + this.options.refreshTokenTtlMs, row.absoluteExpiresAt),
      };
      return { update, result: { kind: "issued", token, record: { ...row, ...update }, rotated: true } };
    }
    if (sameHash(row.prevRefreshTokenHash, hash)) {
      const token = successorOf(presented, row.handle, secret);
      const withinGrace = row.rotatedAt !== null && now - row.rotatedAt <= this.options.refreshGraceMs;
      if (withinGrace && sameHash(row.refreshTokenHash, hashRefreshToken(token))) {
        return { result: { kind: "issued", token, record: row, rotated: false } };
      }
      return { update: { revokedAt: now }, result: { kind: "theft", record: { ...row, revokedAt: now } } };
    }
    // A wrong secret for a known handle is a guess, not a reuse: refusing it without
    // revoking keeps a handle (which is not secret) from being a way to end sessions.
    return { result: { kind: "refused", reason: "refresh token does not match" } };
  }

  #signFor(
    record: Pick<SessionRecord, "userId" | "handle" | "accessTokenPayload" | "absoluteExpiresAt">,
    keepExp?: number,
  ): { accessToken: string; claims: AccessClaims } {
    const now = this.options.clock();
    const iat = Math.floor(now / 1000);
    // exp from milliseconds, rounded up: a token lives at least accessTokenTtl (a
    // sub-second TTL would otherwise be issued nearly expired), and never past the
    // session's absolute lifetime.
    const exp = keepExp ?? Math.min(Math.ceil((now + this.options.accessTokenTtlMs) / 1000), Math.floor(record.absoluteExpiresAt / 1000));
    const accessToken = signAccessToken(this.keys.signingKey(), this.#tokenSettings, {
      userId: record.userId,
      handle: record.handle,
      payload: record.accessTokenPayload,
      iat,
      exp,
    });
    if (accessToken.length > MAX_ACCESS_TOKEN_LENGTH) {
      throw new TypeError(
        `latchkey: the access token would be ${accessToken.length} characters; browsers drop cookies past about 4 KB, ` +
          `so the limit is ${MAX_ACCESS_TOKEN_LENGTH}. Shorten the accessTokenPayload (or the user id).`,
      );
    }
    const claims: AccessClaims = { ...record.accessTokenPayload, sub: record.userId, sid: record.handle, iat, exp, iss: this.options.issuer };
    if (this.options.audience !== undefined) claims.aud = this.options.audience;
    return { accessToken, claims };
  }

  async #updateLive(handle: unknown, change: (row: SessionRecord) => SessionUpdate): Promise<SessionRecord | null> {
    const valid = checkHandle(handle);
    if (!valid) return null;
    const now = this.options.clock();
    return this.#guard(async () => {
      const updated = await this.store.updateSession(valid, (row) => {
        if (row.revokedAt !== null || !isLive(row, now)) return { result: null };
        const update = change(row);
        return { update, result: { ...row, ...update } };
      });
      return updated ?? null;
    });
  }

  async #guard<T>(work: () => Promise<T>): Promise<T> {
    await this.ready();
    try {
      return await work();
    } catch (error) {
      if (error instanceof TypeError) throw error;
      this.log.error("the session store failed", error);
      throw storeUnavailable(error);
    }
  }

  // Key reloads and polling revoked handles, each one small query
  // per interval whatever the traffic. Timers are unref'd: they never keep a process alive.
  #startBackgroundWork(): void {
    this.#every(this.keys.reloadIntervalMs, "reload signing keys", () => this.keys.load());
    if (this.options.cleanupIntervalMs !== false) {
      // At most 20 batches a tick: a backlog is worked off over several ticks.
      this.#every(this.options.cleanupIntervalMs, "clean up expired sessions", async () => {
        await this.cleanup({ maxBatches: 20 });
      });
    }
    let since = this.options.clock() - this.options.accessTokenTtlMs;
    this.#every(REVOCATION_POLL_MS, "poll revoked sessions", async () => {
      const started = this.options.clock();
      // Page through a burst of revocations: a store answers a bounded page per call.
      for (let from = since; ; ) {
        const page = await this.store.listRevokedSince(from);
        for (const { handle, revokedAt } of page) this.revocations.add(handle, revokedAt);
        const last = page.at(-1)?.revokedAt;
        if (page.length < REVOKED_PAGE_SIZE || last === undefined || last <= from) break;
        from = last;
      }
      // Overlap the windows: instances' clocks differ a little, and a revocation
      // committed while the query ran must not fall between two polls.
      since = started - REVOCATION_POLL_MS - 5000;
    });
  }

  #every(intervalMs: number, what: string, work: () => Promise<void>): void {
    let failing = false;
    const timer = setInterval(() => {
      work().then(
        () => {
          if (failing) this.log.warn(`${what}: working again`);
          failing = false;
        },
        (error: unknown) => {
          // Log a failure once, not every interval, while the database is down.
          if (!failing) this.log.error(`${what} failed; will retry`, error);
          failing = true;
        },
      );
    }, intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }
}

export interface CleanupResult {
  /** Expired sessions deleted. */
  sessions: number;
  /** Retired signing keys deleted. */
  keys: number;
}

/** The most revoked handles a store returns per listRevokedSince call (MySqlStore's page). */
export const REVOKED_PAGE_SIZE = 10_000;

/** How often each instance asks for recently revoked sessions: the revocation lag bound. */
export const REVOCATION_POLL_MS = 2000;

function isLive(row: Pick<SessionRecord, "expiresAt" | "absoluteExpiresAt">, now: number): boolean {
  return row.expiresAt > now && row.absoluteExpiresAt > now;
}

function eventOf(row: Pick<SessionRecord, "handle" | "userId" | "ip" | "userAgent">): SessionEvent {
  return { handle: row.handle, userId: row.userId, ip: row.ip, userAgent: row.userAgent };
}

function informationOf(row: SessionRecord): SessionInformation {
  return {
    handle: row.handle,
    userId: row.userId,
    accessTokenPayload: row.accessTokenPayload,
    sessionData: row.sessionData,
    createdAt: row.createdAt,
    lastRefreshedAt: row.lastRefreshedAt,
    expiresAt: row.expiresAt,
    absoluteExpiresAt: row.absoluteExpiresAt,
    revokedAt: row.revokedAt,
    ip: row.ip,
    userAgent: row.userAgent,
  };
}

/** Merges a payload update; `null` deletes a key. */
export function mergePayload(current: Record<string, unknown>, update: Record<string, unknown>): Record<string, unknown> {
  const merged = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return checkPayload(merged);
}
