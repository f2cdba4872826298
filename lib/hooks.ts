import type { SessionErrorCode } from "./errors";
import type { Logger } from "./logger";

/** Who made a request, for session metadata and audit events. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** No request: an admin call, a script, cleanup. */
export const NO_CLIENT: ClientInfo = Object.freeze({ ip: null, userAgent: null });

/**
 * What audit hooks receive about a session. Never a token or a hash. `ip` and `userAgent`
 * are where the session was created; `clientIp` and `clientUserAgent` are the request that
 * caused the event (`null` when none did, as for an admin revoke or cleanup), so a stolen
 * session refreshed elsewhere does not look like the victim's own device.
 */
export interface SessionEvent {
  handle: string;
  userId: string;
  ip: string | null;
  userAgent: string | null;
  clientIp: string | null;
  clientUserAgent: string | null;
  /** When it happened, in milliseconds since the epoch. */
  at: number;
}

/** Why a session ended. */
export type RevokeReason = "sign-out" | "admin" | "theft" | "revoke-all" | "expiry" | "re-login" | "evicted";

export interface RevokedEvent extends SessionEvent {
  reason: RevokeReason;
}

/** A refused access or refresh token (never the token itself). */
export interface RefusedEvent {
  /** Which kind of token the request carried, or should have. */
  kind: "access" | "refresh";
  /** The answer's code: `TRY_REFRESH_TOKEN` for an expired token is routine, the rest worth a look. */
  code: SessionErrorCode;
  /** Why, in words safe to log: "access token expired", "refresh token does not match", ... */
  reason: string;
  method: string;
  path: string;
  clientIp: string | null;
  clientUserAgent: string | null;
  at: number;
}

/**
 * Audit hooks. They run after the response is decided and are never awaited: a hook
 * that throws, rejects or hangs is logged and cannot break or delay the request.
 */
export interface SessionHooks {
  /** A session was created by `res.createSession` (or `createNewSessionWithoutRequestResponse`). */
  onSessionCreated?: (event: SessionEvent) => void | Promise<void>;
  /** A refresh token was rotated (or re-issued inside the grace window). */
  onRefreshed?: (event: SessionEvent) => void | Promise<void>;
  /** A refresh token that is no longer current was presented; the session has been revoked. */
  onTheftDetected?: (event: SessionEvent) => void | Promise<void>;
  /** A session was revoked, with the reason. */
  onRevoked?: (event: RevokedEvent) => void | Promise<void>;
  /** An access or refresh token was refused (expired, forged, revoked, failed CSRF check...). */
  onRefused?: (event: RefusedEvent) => void | Promise<void>;
}

export function fireHook<E>(logger: Logger, name: string, hook: ((event: E) => unknown) | undefined, event: E): void {
  if (!hook) return;
  try {
    const result = hook(event);
    if (result instanceof Promise) result.catch((error: unknown) => logger.error(`hook ${name} rejected`, error));
  } catch (error) {
    logger.error(`hook ${name} threw`, error);
  }
}
