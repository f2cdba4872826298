import type { SessionClaimValidator } from "../claims/claim";
import { SessionError } from "../errors";
import type { SessionManager } from "../manager";
import { Session, type SessionSink } from "../session";
import type { AccessClaims } from "../tokens/access";
import { settleClaims } from "./claims";
import { assertLive, verifyAccessReloading } from "./verification";

/** How to open a session from an access token, beyond the token itself. */
export interface OpenOptions {
  /** Also confirm the session row is live (one primary-key read). */
  checkDatabase: boolean;
  /** Resolve to `undefined`, instead of rejecting, when the token is not valid (an expired one still rejects). */
  optional: boolean;
  /** The validators this session must pass (a route's override of the global ones). */
  validators(session: Session): readonly SessionClaimValidator[];
  /** Where a re-signed access token goes: the response, or the caller of a no-request API. */
  sink: SessionSink;
  /** Told of the session as soon as it exists, before its claims are checked (a request property). */
  attach?(session: Session): void;
}

/**
 * verify → Session → validators → refetch → validate: the one sequence behind
 * `verifySession`, `getSession` and `getSessionWithoutRequestResponse` (each framework's
 * guard too). Verification's no-I/O fast path (`lib/http/verify.ts`) is its synchronous
 * twin for requests that need no key reload, database read or claim fetch.
 */
export async function openSession(manager: SessionManager, accessToken: string, options: OpenOptions): Promise<Session | undefined> {
  if (!manager.isReady) await manager.ready();
  let claims: AccessClaims;
  try {
    claims = await verifyAccessReloading(manager, accessToken);
  } catch (error) {
    if (options.optional && isUnauthorised(error)) return undefined;
    throw error;
  }
  if (options.checkDatabase) await assertLive(manager, claims.sid);
  const session = Session.open(manager, { claims, accessToken }, options.sink);
  options.attach?.(session);
  await settleClaims(manager, session, options.validators(session));
  return session;
}

/**
 * An optional session ignores a bad token, but not an expired one: refreshing it is how a
 * signed-in user stays signed in.
 */
export function isUnauthorised(error: unknown): boolean {
  return error instanceof SessionError && error.code === "UNAUTHORISED";
}
