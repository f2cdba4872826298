import type { SessionClaim } from "./claims/claim";
import type { SessionClaimValidator } from "./claims/claim";
import { SessionError } from "./errors";
import type { ClientInfo } from "./hooks";
import type { SessionManager } from "./manager";
import { getSessionInformation, revokeSession, updateAccessTokenPayload, updateSessionData } from "./sessions/admin";
import { refetchClaims, settleClaims } from "./sessions/claims";
import type { SessionRecord } from "./store/store";
import type { AccessClaims } from "./tokens/access";
import { frontToken } from "./tokens/front";
import { RESERVED_CLAIMS } from "./tokens/reserved";
import type { AccessTokenPayload, AccessTokenPayloadUpdate } from "./types/payload";
import { checkPayload } from "./validate";

/** What the token cookies' lifetime follows: the session's idle expiry, or the browser session. */
export interface CookieLifetime {
  expiresAt: number;
  persistent: boolean;
}

/**
 * Where a session's re-signed access token goes — the response (cookie or header), or the
 * caller of a no-request API — and who the session's requests come from (asked only when
 * an event or a write needs it: `req.ip` is not free).
 */
export interface SessionSink {
  accessTokenChanged(accessToken: string, claims: AccessClaims, lifetime: CookieLifetime): void;
  cleared(): void;
  client(): ClientInfo;
}

/** The tokens of a session as the no-request APIs hand them over (SuperTokens' name). */
export interface SessionTokens {
  accessToken: string;
  /** Present only where this call issued it (a create or a refresh without a request). */
  refreshToken: string | undefined;
  frontToken: string;
  /** Whether this session's access token (and front token) changed since the caller got it. */
  accessAndFrontTokenUpdated: boolean;
}

/**
 * The session of the current request, as `req.session` (or the `sessionProperty` you
 * chose). Reading it costs nothing; the methods that touch stored state say so.
 */
export class Session {
  /** The user this session belongs to. */
  readonly userId: string;
  /** The session's stable id (the `sid` claim); not a secret. */
  readonly handle: string;
  /** When the access token expires, in milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly #manager: SessionManager;
  readonly #sink: SessionSink;
  readonly #refreshToken: string | undefined;
  #claims: AccessClaims;
  #payload: Readonly<AccessTokenPayload & Record<string, unknown>>;
  #accessToken: string;
  #updated = false;

  // Private: sessions are opened by latchkey (verifySession, createSession, the no-request
  // APIs), never by an app; its declaration then names none of latchkey's internals.
  private constructor(
    manager: SessionManager,
    session: { claims: AccessClaims; accessToken: string; refreshToken?: string },
    sink: SessionSink,
  ) {
    this.userId = session.claims.sub;
    this.handle = session.claims.sid;
    this.expiresAt = session.claims.exp * 1000;
    this.#payload = customClaims(session.claims);
    this.#manager = manager;
    this.#sink = sink;
    this.#claims = session.claims;
    this.#accessToken = session.accessToken;
    this.#refreshToken = session.refreshToken;
  }

  /** @internal Opens a session for verified (or freshly signed) tokens; the constructor is private. */
  static open(manager: SessionManager, session: { claims: AccessClaims; accessToken: string; refreshToken?: string }, sink: SessionSink): Session {
    return new Session(manager, session, sink);
  }

  /**
   * The custom claims of the access token, without latchkey's own (`sub`, `sid`, `exp`, ...).
   * Read-only (frozen): change it with {@link mergeIntoAccessTokenPayload}.
   */
  get accessTokenPayload(): Readonly<AccessTokenPayload & Record<string, unknown>> {
    return this.#payload;
  }

  /** When the user last proved who they are (login or re-authentication), in ms since the epoch (whole seconds). */
  get authTime(): number {
    return (this.#claims.authTime ?? this.#claims.iat) * 1000;
  }

  /** Revokes this session (as a sign-out) and clears its tokens on this response. */
  async revoke(): Promise<void> {
    await revokeSession(this.#manager, this.handle, "sign-out", this.#sink.client());
    this.#sink.cleared();
  }

  /** The server-side data stored with the session (one primary-key read). */
  async getSessionData<T extends object = Record<string, unknown>>(): Promise<T> {
    const info = await getSessionInformation(this.#manager, this.handle);
    if (!info || info.revokedAt !== null) throw new SessionError("UNAUTHORISED", "session no longer exists");
    return info.sessionData as T;
  }

  /** Replaces the server-side data stored with the session. */
  async updateSessionData(data: Record<string, unknown>): Promise<void> {
    if (!(await updateSessionData(this.#manager, this.handle, data))) throw new SessionError("UNAUTHORISED", "session no longer exists");
  }

  /**
   * Merges `update` into the access-token payload (`null` deletes a key), stores it for
   * future refreshes, and re-signs the access token on this response with the same expiry.
   */
  async mergeIntoAccessTokenPayload(update: AccessTokenPayloadUpdate): Promise<void> {
    const updated = await updateAccessTokenPayload(this.#manager, this.handle, update);
    if (!updated) throw new SessionError("UNAUTHORISED", "session no longer exists");
    this.resign(updated);
  }

  /** Fetches the claim's value (its `fetchValue`), stores it in the payload and re-signs the access token. */
  async fetchAndSetClaim(claim: SessionClaim<unknown>): Promise<void> {
    const updated = await refetchClaims(this.#manager, [claim], this);
    if (!updated) throw new SessionError("UNAUTHORISED", "session no longer exists");
    this.resign(updated);
  }

  /** Stores `value` as the claim's value (fetched now) and re-signs the access token. */
  async setClaimValue<T>(claim: SessionClaim<T>, value: T): Promise<void> {
    await this.mergeIntoAccessTokenPayload(checkPayload(claim.buildUpdate(value, this.#manager.now())));
  }

  /** The claim's value in this session's access token, or `undefined`. */
  getClaimValue<T>(claim: SessionClaim<T>): T | undefined {
    return claim.getValueFromPayload(this.accessTokenPayload);
  }

  /** Removes the claim from the payload and re-signs the access token. */
  async removeClaim(claim: SessionClaim<unknown>): Promise<void> {
    await this.mergeIntoAccessTokenPayload(claim.removalUpdate());
  }

  /**
   * Runs `validators` as `verifySession` would: claims they find missing or stale are
   * fetched again (and the token re-signed), then a failure throws `INVALID_CLAIM`, which
   * `errorHandler()` answers with the status and body the SDK reacts to.
   */
  async assertClaims(validators: readonly SessionClaimValidator[]): Promise<void> {
    await settleClaims(this.#manager, this, validators);
  }

  /** The access token as it stands now (re-signed by this session's changes, if any). */
  getAccessToken(): string {
    return this.#accessToken;
  }

  /** The session's tokens, for code without a response to put them on (websockets, RPC, tests). */
  getAllSessionTokensDangerously(): SessionTokens {
    return { accessToken: this.#accessToken, refreshToken: this.#refreshToken, frontToken: frontToken(this.#claims), accessAndFrontTokenUpdated: this.#updated };
  }

  /**
   * @internal What claim validators read: the whole verified payload, latchkey's claims
   * (`authTime` for `requireFresh`) included, as the frontend SDK's validators see it.
   */
  validationPayload(): Readonly<AccessClaims> {
    return this.#claims;
  }

  /** @internal Fetches `claims` again, stores them and re-signs; for `verifySession`'s refetch. */
  async refetch(claims: readonly SessionClaim<unknown>[]): Promise<void> {
    const updated = await refetchClaims(this.#manager, claims, this);
    if (!updated) throw new SessionError("UNAUTHORISED", "session no longer exists");
    this.resign(updated);
  }

  /** @internal Re-signs the access token from `record`, keeping its expiry, and hands it to the sink. */
  resign(record: SessionRecord): void {
    const { accessToken, claims } = this.#manager.sign(record, this.#claims.exp);
    this.#claims = claims;
    this.#accessToken = accessToken;
    this.#updated = true;
    this.#payload = customClaims(claims);
    this.#sink.accessTokenChanged(accessToken, claims, { expiresAt: record.expiresAt, persistent: record.persistent });
  }
}

// Claims from the verified-token cache are shared by every request with that token, so
// their custom part is worked out once per claims object.
const payloads = new WeakMap<AccessClaims, Readonly<Record<string, unknown>>>();

// Read-only, like the token it comes from: change it with mergeIntoAccessTokenPayload.
// On a null-prototype object: a "__proto__" claim stays a plain property.
function customClaims(claims: AccessClaims): Readonly<AccessTokenPayload & Record<string, unknown>> {
  let payload = payloads.get(claims);
  if (payload === undefined) {
    const custom = Object.create(null) as Record<string, unknown>;
    for (const key in claims) if (!RESERVED_CLAIMS.has(key)) custom[key] = claims[key];
    payload = Object.freeze(custom);
    payloads.set(claims, payload);
  }
  return payload as Readonly<AccessTokenPayload & Record<string, unknown>>;
}
