import { SessionError, storeUnavailable } from "../errors";
import type { ClientInfo } from "../hooks";
import type { IssuedSession, SessionManager } from "../manager";
import { OUTCOME_UNKNOWN, type Decision } from "../store/store";
import type { PresentedRefreshToken } from "../tokens/refresh";
import { fetchMissingClaims } from "./claims";
import { decideRefresh, type RefreshOutcome, type RotationContext } from "./rotation";
import { reportTheft } from "./theft";

/**
 * Rotates a refresh token (see {@link decideRefresh} for the rules). `tokens` are the
 * request's refresh tokens of one session, already chosen by the transport.
 *
 * A rotation whose COMMIT went unanswered is resolved, not guessed: the refresh runs
 * again under the row lock, which the lost transaction holds until it has committed or
 * rolled back, so the second run sees what really happened and answers with the same
 * successor either way. When even that fails, the answer is 503 and a background
 * resolution records, once the database answers, whether the rotation landed — so that
 * the client's retry with its old token is never taken for theft.
 */
export async function refreshSession(manager: SessionManager, tokens: PresentedRefreshToken[], client: ClientInfo): Promise<IssuedSession> {
  const handle = tokens[0]?.handle;
  if (handle === undefined) throw new SessionError("UNAUTHORISED", "no refresh token");
  await manager.freshKeys();

  // This instance's own unresolved rotation of a token this request carries: resolve it now.
  const resolving = manager.background.pendingResolution(handle, tokens);
  let attempted: RefreshOutcome | undefined;
  let decidedAt: number | undefined; // on the shared clock rotatedAt is stamped with, for a theft's forensics
  const decide = (row: Parameters<typeof decideRefresh>[0], databaseNow?: number): Decision<RefreshOutcome> => {
    const rotation = context(manager, client, resolving, databaseNow);
    decidedAt = rotation.sharedNow;
    const decision = decideRefresh(row, tokens, rotation);
    attempted = decision.update ? decision.result : undefined;
    return decision;
  };

  let outcome: RefreshOutcome | null;
  try {
    outcome = await manager.store.updateSession(handle, decide);
  } catch (error) {
    if ((error as { code?: unknown }).code !== OUTCOME_UNKNOWN) throw storeFault(manager, error);
    outcome = await resolve(manager, handle, tokens, client, attempted);
  }
  if (resolving) manager.background.resolved(handle);
  if (outcome === null) throw new SessionError("UNAUTHORISED", "unknown session");
  if (outcome.kind === "refused") throw new SessionError("UNAUTHORISED", outcome.reason);
  if (outcome.kind === "theft") {
    const { record } = outcome;
    manager.revoked([record], record.revokedAt ?? manager.now(), "theft", client);
    reportTheft(manager, record, tokens, client, outcome.reason, decidedAt);
    throw new SessionError("TOKEN_THEFT_DETECTED", outcome.reason);
  }

  const record = await fetchMissingClaims(manager, outcome.record);
  manager.emit("onRefreshed", manager.event(record, client));
  return { record, refreshToken: outcome.token, ...manager.sign(record) };
}

async function resolve(
  manager: SessionManager,
  handle: string,
  tokens: PresentedRefreshToken[],
  client: ClientInfo,
  attempted: RefreshOutcome | undefined,
): Promise<RefreshOutcome | null> {
  // The token the lost transaction issued a successor for (by rotating, or by re-issuing
  // and marking it delivered); a lost revocation needs no help, it is simply decided again.
  const issuedFor = attempted?.kind === "issued" ? attempted.presented : undefined;
  try {
    return await manager.store.updateSession(handle, (row, databaseNow) => decideRefresh(row, tokens, context(manager, client, issuedFor, databaseNow)));
  } catch (error) {
    if (attempted?.kind === "issued" && issuedFor) {
      const { rotatedAt, lastRefreshedAt } = attempted.record;
      manager.background.resolveLater(handle, issuedFor, { rotatedAt, lastRefreshedAt });
    }
    throw storeFault(manager, error);
  }
}

function context(manager: SessionManager, client: ClientInfo, resolving: PresentedRefreshToken | undefined, databaseNow: number | undefined): RotationContext {
  const { options } = manager;
  return {
    now: manager.now(),
    sharedNow: manager.sharedNow(databaseNow),
    graceMs: options.refreshGraceMs,
    idleTtlMs: options.refreshTokenTtlMs,
    secret: manager.keys.successorSecret,
    client,
    resolving,
  };
}

function storeFault(manager: SessionManager, error: unknown): SessionError {
  if (error instanceof SessionError) return error;
  manager.diagnostics.fault("refresh", "could not refresh a session", error);
  return storeUnavailable(error);
}
