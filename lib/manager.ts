import { SessionError, storeUnavailable } from "./errors";
import { fireHook, type ClientInfo, type RevokedEvent, type RevokeReason, type SessionEvent, type SessionHooks } from "./hooks";
import { KeyRing } from "./keys";
import { Diagnostics, resolveLogger } from "./logger";
import { metrics } from "./metrics";
import type { ResolvedOptions } from "./options/resolve";
import { PollWatch } from "./poll-watch";
import { ClaimInvalidations, RevocationList } from "./revocations";
import { ClaimAbsences } from "./sessions/claim-absences";
import type { SessionRecord, SessionStore } from "./store/store";
import { MAX_ACCESS_TOKEN_LENGTH, signAccessToken, type AccessClaims, type TokenSettings } from "./tokens/access";
import type { PresentedRefreshToken } from "./tokens/refresh";
import { VerifiedTokenCache } from "./verified-cache";

/** Tokens and state handed out by a create or a refresh. */
export interface IssuedSession {
  record: SessionRecord;
  accessToken: string;
  refreshToken: string;
  claims: AccessClaims;
}

/**
 * What runs beside a manager on timers (`lib/sessions/background.ts`), handed to it by
 * `lib/management.ts`: the state never builds or imports its own workers.
 */
export interface Workers {
  /** Reads revocations and claim invalidations since the last poll. */
  pollOnce(): Promise<void>;
  /** Polls now if the last poll is older than the poll interval (for processes frozen between requests, where timers do not run); never rejects. */
  pollIfStale(): Promise<void>;
  /** Starts the timers (idempotent). */
  start(): void;
  /** Stops the timers after a last try at what they still had to do. */
  stop(): Promise<void>;
  /** Remembers a rotation of `presented` whose outcome is unknown, to resolve once the store answers. */
  resolveLater(handle: string, presented: PresentedRefreshToken, wrote: Pick<SessionRecord, "rotatedAt" | "lastRefreshedAt">): void;
  /** This instance's unresolved rotation of one of `tokens`, if any: the next refresh with it resolves it. */
  pendingResolution(handle: string, tokens: PresentedRefreshToken[]): PresentedRefreshToken | undefined;
  resolved(handle: string): void;
}

/** The skew between instances' clocks that revocation retention allows for (as `iat` does). */
const CLOCK_SKEW_MS = 5000;

/**
 * The state one `sessionMiddleware()` (or `sessionManager()`, or any adapter) shares:
 * options, store, keys, what this instance knows of revocations and claim changes, and
 * diagnostics. The session operations live in `lib/sessions/`, each a function of this;
 * the background work that keeps it current is attached by `lib/management.ts`.
 */
export class SessionManager {
  readonly options: ResolvedOptions;
  readonly store: SessionStore;
  readonly keys: KeyRing;
  readonly revocations: RevocationList;
  readonly invalidations: ClaimInvalidations;
  /** Claims whose fetch found no value, believed for their max age (not fetched on every request). */
  readonly absences = new ClaimAbsences();
  readonly diagnostics: Diagnostics;
  readonly tokenSettings: TokenSettings;
  readonly verified: VerifiedTokenCache;
  /** How the revocation poll is doing, for `health()` and the poll-lag metric. */
  readonly polls = new PollWatch();
  #background: Workers | undefined;
  /** How long a revoked session's tokens (or a claim's old value) may still be presented. */
  readonly retentionMs: number;
  // How far the clock option stood from the wall clock at start-up (0 unless it is a custom clock).
  readonly #clockOffset: number;
  #storeReady: Promise<void> | undefined;
  #ready: Promise<void> | undefined;
  #isReady = false;

  constructor(options: ResolvedOptions, store: SessionStore) {
    this.options = options;
    this.store = store;
    this.#clockOffset = options.clock() - Date.now();
    this.diagnostics = new Diagnostics(resolveLogger(options.logger), options.debug);
    this.keys = new KeyRing(store, {
      algorithm: options.algorithm,
      rotationMs: options.keyRotationMs,
      accessTokenTtlMs: options.accessTokenTtlMs,
      clock: options.clock,
    });
    // exp is floored to the second, so every token of a session revoked at t has expired
    // by t + accessTokenTtl on the signer's clock; the skew covers the others' clocks.
    this.retentionMs = options.accessTokenTtlMs + CLOCK_SKEW_MS;
    this.revocations = new RevocationList({
      retentionMs: this.retentionMs,
      clock: options.clock,
      maxEntries: options.revocationListSize,
      onDropped: () =>
        this.diagnostics.fault(
          "revocations-dropped",
          `more than revocationListSize (${options.revocationListSize}) sessions were revoked within one access-token lifetime: ` +
            "the oldest are forgotten and their access tokens stay valid until they expire. Raise revocationListSize.",
        ),
    });
    this.invalidations = new ClaimInvalidations({ retentionMs: this.retentionMs, clock: options.clock });
    this.tokenSettings = { issuer: options.issuer, audience: options.audience, accessTokenTtlMs: options.accessTokenTtlMs };
    this.verified = new VerifiedTokenCache(options.verifyCacheSize);
  }

  /** The background work of this manager; attached once, by `lib/management.ts`. */
  get background(): Workers {
    if (!this.#background) throw new Error("latchkey: a SessionManager needs its workers: build it with lib/management.ts.");
    return this.#background;
  }

  set background(workers: Workers) {
    if (this.#background) throw new Error("latchkey: a SessionManager's workers are attached once.");
    this.#background = workers;
  }

  get log() {
    return this.diagnostics.log;
  }

  now(): number {
    return this.options.clock();
  }

  /**
   * The time on the clock instances share for the refresh grace window: the database's,
   * read under the row lock (`databaseNow`), or this instance's when the store gives none
   * (the memory store lives in one process, with one clock). A `clock` option that runs
   * away from the wall clock (a test's fake clock) moves it by as much as it moved since
   * start-up, so simulated time still passes; one merely set apart from the others does not.
   */
  sharedNow(databaseNow: number | undefined): number {
    if (databaseNow === undefined || !Number.isFinite(databaseNow)) return this.now();
    return databaseNow + (this.now() - Date.now()) - this.#clockOffset;
  }

  /** True once {@link ready} has resolved: verification then needs no I/O at all. */
  get isReady(): boolean {
    return this.#isReady;
  }

  /**
   * The store is usable for management (schema checked or migrated). Loads no keys and
   * creates nothing else, so read-only tools (the CLI) can use it against any database.
   * A failure is not remembered: the next call tries again.
   */
  storeReady(): Promise<void> {
    this.#storeReady ??= this.store.init().catch((error: unknown) => {
      this.#storeReady = undefined;
      this.diagnostics.fault("init", "could not prepare the session store", error);
      throw storeUnavailable(error);
    });
    return this.#storeReady;
  }

  /**
   * Everything needed to issue and verify tokens: the store ready, the signing keys loaded
   * (created when due), and the first revocation poll done, so that a fresh instance never
   * accepts a token revoked a moment before it started. Rejects with the cause (a
   * `SessionError` `STORE_UNAVAILABLE` whose `cause` is the driver's error); the next
   * call tries again, so service resumes by itself.
   */
  ready(): Promise<void> {
    this.#ready ??= (async () => {
      await this.storeReady();
      try {
        await this.keys.load();
        await this.background.pollOnce();
      } catch (error) {
        this.diagnostics.fault("init", "could not load signing keys or revocations", error);
        throw storeUnavailable(error);
      }
      this.background.start();
      this.#isReady = true;
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  /** Re-reads the keys before signing when they may be out of date (see {@link KeyRing.stale}). */
  async freshKeys(): Promise<void> {
    await this.ready();
    if (!this.keys.stale) return;
    try {
      await this.keys.load();
    } catch (error) {
      this.diagnostics.fault("keys", "could not reload signing keys", error);
      throw storeUnavailable(error);
    }
  }

  /**
   * Runs store work, turning a store fault into `STORE_UNAVAILABLE` (logged at most once
   * per 30 s per kind). `TypeError`s and `SessionError`s pass through.
   */
  async guard<T>(what: string, work: () => Promise<T>): Promise<T> {
    await this.storeReady();
    try {
      return await work();
    } catch (error) {
      if (error instanceof TypeError || error instanceof SessionError) throw error;
      this.diagnostics.fault(what, `could not ${what}`, error);
      throw storeUnavailable(error);
    }
  }

  /**
   * Signs an access token for a session. `exp` (seconds) keeps an existing token's expiry
   * (a payload change re-signs, it does not extend); otherwise it is now + accessTokenTtl
   * floored to the second — a token never outlives its lifetime, and `ate` in front-token
   * equals it — and never past the session's absolute expiry.
   */
  sign(
    record: Pick<SessionRecord, "userId" | "handle" | "accessTokenPayload" | "absoluteExpiresAt" | "authTime">,
    exp?: number,
  ): { accessToken: string; claims: AccessClaims } {
    const now = this.now();
    const iat = Math.floor(now / 1000);
    const expiry = exp ?? Math.min(Math.floor((now + this.options.accessTokenTtlMs) / 1000), Math.floor(record.absoluteExpiresAt / 1000));
    const authTime = Math.floor(record.authTime / 1000);
    const accessToken = signAccessToken(this.keys.signingKey(), this.tokenSettings, {
      userId: record.userId,
      handle: record.handle,
      payload: record.accessTokenPayload,
      iat,
      exp: expiry,
      authTime,
    });
    if (accessToken.length > MAX_ACCESS_TOKEN_LENGTH) {
      throw new TypeError(
        `latchkey: the access token would be ${accessToken.length} characters; browsers drop cookies past about 4 KB, ` +
          `so the limit is ${MAX_ACCESS_TOKEN_LENGTH}. Shorten the accessTokenPayload (or the user id).`,
      );
    }
    const claims = Object.assign(Object.create(null) as AccessClaims, record.accessTokenPayload, {
      sub: record.userId,
      sid: record.handle,
      iat,
      exp: expiry,
      iss: this.options.issuer,
      authTime,
    });
    if (this.options.audience !== undefined) claims.aud = this.options.audience;
    return { accessToken, claims };
  }

  /** An audit event about a session, caused by `client` (or by no request). */
  event(row: Pick<SessionRecord, "handle" | "userId" | "ip" | "userAgent">, client: ClientInfo): SessionEvent {
    return {
      handle: row.handle,
      userId: row.userId,
      ip: row.ip,
      userAgent: row.userAgent,
      clientIp: client.ip,
      clientUserAgent: client.userAgent,
      at: this.now(),
    };
  }

  emit<K extends keyof SessionHooks>(name: K, event: Parameters<NonNullable<SessionHooks[K]>>[0]): void {
    metrics.event(name);
    fireHook(this.log, name, this.options[name] as ((event: unknown) => unknown) | undefined, event);
  }

  /** Records revocations this instance made (refused at once here) and tells the hooks. */
  revoked(rows: Pick<SessionRecord, "handle" | "userId" | "ip" | "userAgent">[], at: number, reason: RevokeReason, client: ClientInfo): void {
    for (const row of rows) {
      this.revocations.add(row.handle, at);
      this.emit("onRevoked", { ...this.event(row, client), reason } satisfies RevokedEvent);
    }
  }

  /** Stops background work (after one last attempt at what it still had to do) and closes the store's own connections. */
  async close(): Promise<void> {
    await this.background.stop();
    await this.store.close();
  }
}
