import type { Request, Response } from "express";
import type { TransferMode } from "./cookies";
import { SessionError } from "./errors";
import type { Runtime } from "./runtime";
import { RESERVED_CLAIMS, type AccessClaims } from "./tokens/access";
import type { AccessTokenPayload } from "./types/payload";

/**
 * The session of the current request, as `req.session`. Reading it costs nothing;
 * the methods that touch stored state say so.
 */
export class Session {
  /** The user this session belongs to. */
  readonly userId: string;
  /** The session's stable id (the `sid` claim); not a secret. */
  readonly handle: string;
  /**
   * The custom claims of the access token, without latchkey's own (`sub`, `sid`, `exp`, ...).
   * Read-only (frozen): change it with {@link mergeIntoAccessTokenPayload}.
   */
  accessTokenPayload: AccessTokenPayload & Record<string, unknown>;
  /** When the access token expires, in milliseconds since the epoch. */
  readonly expiresAt: number;
  readonly #runtime: Runtime;
  readonly #req: Request;
  readonly #res: Response;
  readonly #mode: TransferMode;
  #claims: AccessClaims;

  constructor(runtime: Runtime, claims: AccessClaims, req: Request, res: Response, mode: TransferMode) {
    this.userId = claims.sub;
    this.handle = claims.sid;
    this.expiresAt = claims.exp * 1000;
    this.accessTokenPayload = customClaims(claims) as AccessTokenPayload & Record<string, unknown>;
    this.#runtime = runtime;
    this.#req = req;
    this.#res = res;
    this.#mode = mode;
    this.#claims = claims;
  }

  /** Revokes this session (as a sign-out) and clears its tokens on this response. */
  async revoke(): Promise<void> {
    await this.#runtime.manager.revokeSession(this.handle, "sign-out");
    this.#runtime.transfer.clearTokens(this.#req, this.#res, this.#mode);
  }

  /** The server-side data stored with the session (one primary-key read). */
  async getSessionData(): Promise<Record<string, unknown>> {
    const info = await this.#runtime.manager.getSessionInformation(this.handle);
    if (!info || info.revokedAt !== null) throw new SessionError("UNAUTHORISED", "session no longer exists");
    return info.sessionData;
  }

  /** Replaces the server-side data stored with the session. */
  async updateSessionData(data: Record<string, unknown>): Promise<void> {
    if (!(await this.#runtime.manager.updateSessionData(this.handle, data))) {
      throw new SessionError("UNAUTHORISED", "session no longer exists");
    }
  }

  /**
   * Merges `update` into the access-token payload (`null` deletes a key), stores it for
   * future refreshes, and re-signs the access token on this response with the same expiry.
   */
  async mergeIntoAccessTokenPayload(update: Record<string, unknown>): Promise<void> {
    const { manager, transfer } = this.#runtime;
    const updated = await manager.updateAccessTokenPayload(this.handle, update);
    if (!updated) throw new SessionError("UNAUTHORISED", "session no longer exists");
    const { accessToken, claims } = manager.signFor(updated, this.#claims.exp);
    this.#claims = claims;
    this.accessTokenPayload = customClaims(claims) as AccessTokenPayload & Record<string, unknown>;
    transfer.setAccessToken(this.#req, this.#res, this.#mode, accessToken, claims, updated.expiresAt);
  }
}

// Claims from the verified-token cache are shared by every request with that token, so
// their custom part is worked out once per claims object.
const payloads = new WeakMap<AccessClaims, Record<string, unknown>>();

// Read-only, like the token it comes from: change it with mergeIntoAccessTokenPayload.
function customClaims(claims: AccessClaims): Record<string, unknown> {
  let payload = payloads.get(claims);
  if (payload === undefined) {
    payload = {};
    for (const key in claims) if (!RESERVED_CLAIMS.has(key)) payload[key] = claims[key];
    Object.freeze(payload);
    payloads.set(claims, payload);
  }
  return payload;
}
