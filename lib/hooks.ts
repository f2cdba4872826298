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
  /** Only on `onRefreshed`: this refresh moved a SuperTokens core session to latchkey (option `migrateFromSuperTokens`). */
  migrated?: true;
}

/** Why a session ended. */
export type RevokeReason = "sign-out" | "admin" | "theft" | "revoke-all" | "expiry" | "re-login" | "evicted";

export interface RevokedEvent extends SessionEvent {
  reason: RevokeReason;
}

/**
 * A refresh token that is no longer current was presented (see {@link SessionEvent}: `clientIp`
 * and `clientUserAgent` are the presenter), with what tells a thief from a client bug: where
 * the legitimate holder last refreshed from, and how long ago the presented token was replaced.
 *
 * @example
 * ```ts
 * sessionMiddleware({
 *   onTheftDetected: (event) =>
 *     audit.warn({ user: event.userId, presenter: event.clientIp, holder: event.holderIp, replacedMsAgo: event.supersededAt === null ? null : event.at - event.supersededAt }),
 * });
 * ```
 */
export interface TheftEvent extends SessionEvent {
  /** Where the session was last refreshed from (where it was created, if never refreshed): the legitimate holder, as far as the server knows. */
  holderIp: string | null;
  holderUserAgent: string | null;
  /**
   * When the presented token stopped being current, in ms since the epoch on the clock of
   * `at`: exact for the token the last rotation replaced (`replayed: "previous"`); for an
   * older one, the last rotation, so it was replaced at least `at - supersededAt` ms ago.
   * `null` if never rotated.
   */
  supersededAt: number | null;
  /** Which token came back: the one the last rotation replaced, or an older one of this session. */
  replayed: "previous" | "older";
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
  onTheftDetected?: (event: TheftEvent) => void | Promise<void>;
  /** A session was revoked, with the reason. */
  onRevoked?: (event: RevokedEvent) => void | Promise<void>;
  /**
   * A request was refused (expired, forged, revoked, failed CSRF check...), `STORE_UNAVAILABLE`
   * included: `code` says which.
   */
  onRefused?: (event: RefusedEvent) => void | Promise<void>;
  /**
   * A store call failed: `error` is the driver's error (its `code`, e.g. `ECONNREFUSED`),
   * `operation` the store method (`createSession`, `updateSession`, `findSession`,
   * `listRevokedSince`...). Once per failed call, retries of a conflict included in it, for
   * requests and background work alike — so a counter of these is the outage's true size.
   *
   * @example
   * ```ts
   * sessionMiddleware({ onStoreError: (error, operation) => storeErrors.inc({ operation }) });
   * ```
   */
  onStoreError?: (error: unknown, operation: string) => void | Promise<void>;
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
