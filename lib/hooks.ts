import type { Logger } from "./logger";

/** What audit hooks receive about a session. Never a token or a hash. */
export interface SessionEvent {
  handle: string;
  userId: string;
  ip: string | null;
  userAgent: string | null;
}

/** Why a session ended. */
export type RevokeReason = "sign-out" | "admin" | "theft" | "revoke-all" | "expiry";

export interface RevokedEvent extends SessionEvent {
  reason: RevokeReason;
}

/**
 * Audit hooks. They run after the response is decided and are never awaited: a hook
 * that throws, rejects or hangs is logged and cannot break or delay the request.
 */
export interface SessionHooks {
  /** A session was created by `res.createSession`. */
  onSessionCreated?: (event: SessionEvent) => void | Promise<void>;
  /** A refresh token was rotated (or re-issued inside the grace window). */
  onRefreshed?: (event: SessionEvent) => void | Promise<void>;
  /** An old refresh token was reused after rotation; the session has been revoked. */
  onTheftDetected?: (event: SessionEvent) => void | Promise<void>;
  /** A session was revoked, with the reason. */
  onRevoked?: (event: RevokedEvent) => void | Promise<void>;
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
