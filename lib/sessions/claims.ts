import type { SessionClaim } from "../claims/claim";
import type { ClaimValidationError } from "../claims/types";
import type { SessionClaimValidator } from "../claims/claim";
import { SessionError } from "../errors";
import type { SessionManager } from "../manager";
import type { SessionRecord } from "../store/store";
import { mergePayload } from "../validate";
import { updateAccessTokenPayload } from "./admin";
import { ABSENCE_MAX_AGE_MS } from "./claim-absences";

/**
 * Session claims at run time: fetched into the payload at login, fetched again when a
 * validator finds one missing or older than its max age, or when `invalidateClaim` has
 * marked the user's value stale, and validated. Requests that need none of this pay one
 * array length check and, while this instance holds claim invalidations, one map lookup.
 */

/** The registered claims' values for a new session, merged into its payload. */
export async function withRegisteredClaims(
  manager: SessionManager,
  userId: string,
  handle: string,
  payload: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const { claims } = manager.options;
  if (claims.length === 0) return payload;
  return mergePayload(payload, await fetchUpdates(manager, claims, userId, handle, payload));
}

/**
 * After a refresh: registered claims the stored payload lacks (removed by
 * `invalidateClaim`, or a claim added to `claims` since the login) are fetched and stored.
 */
export async function fetchMissingClaims(manager: SessionManager, record: SessionRecord): Promise<SessionRecord> {
  const missing = manager.options.claims.filter((claim) => claim.getLastFetchedTime(record.accessTokenPayload) === undefined);
  if (missing.length === 0) return record;
  const update = await fetchUpdates(manager, missing, record.userId, record.handle, record.accessTokenPayload);
  if (Object.keys(update).length === 0) return record;
  return (await updateAccessTokenPayload(manager, record.handle, update)) ?? record;
}

/**
 * The claims a request's validators need fetched again (and invalidated registered ones),
 * deduplicated. A claim whose last fetch found no value, within its max age and with no
 * invalidation since, is not fetched again: its validators answer from what the token holds.
 */
export function staleClaims(
  manager: SessionManager,
  validators: readonly SessionClaimValidator[],
  userId: string,
  payload: Readonly<Record<string, unknown>>,
): SessionClaim<unknown>[] {
  const now = manager.now();
  const stale = new Map<string, SessionClaim<unknown>>();
  for (const validator of validators) {
    const claim = validator.claim;
    if (!claim) continue;
    if (invalidated(manager, claim, userId, payload)) stale.set(claim.key, claim);
    else if (validator.shouldRefetch(payload, now) && !knownAbsent(manager, claim, userId, payload, now)) stale.set(claim.key, claim);
  }
  if (!manager.invalidations.empty) {
    for (const claim of manager.options.claims) {
      if (claim.getLastFetchedTime(payload) !== undefined && invalidated(manager, claim, userId, payload)) stale.set(claim.key, claim);
    }
  }
  return [...stale.values()];
}

/** Fetches `claims` for a session and stores them; resolves to the updated row (null: the session ended). */
export async function refetchClaims(
  manager: SessionManager,
  claims: readonly SessionClaim<unknown>[],
  session: { userId: string; handle: string; accessTokenPayload: Readonly<Record<string, unknown>> },
): Promise<SessionRecord | null> {
  const update = await fetchUpdates(manager, claims, session.userId, session.handle, session.accessTokenPayload, { rememberAbsence: true });
  return updateAccessTokenPayload(manager, session.handle, update);
}

/** What {@link settleClaims} needs of a session (`Session` is one). */
export interface ClaimHolder {
  readonly userId: string;
  validationPayload(): Readonly<Record<string, unknown>>;
  refetch(claims: readonly SessionClaim<unknown>[]): Promise<void>;
}

/**
 * The claims half of opening a session (see `openSession`): what `validators` find missing
 * or stale, and what `invalidateClaim` marked stale, is fetched again (re-signing the token
 * on the session's sink), then every validator runs; a failure throws `INVALID_CLAIM`.
 */
export async function settleClaims(manager: SessionManager, session: ClaimHolder, validators: readonly SessionClaimValidator[]): Promise<void> {
  const stale = staleClaims(manager, validators, session.userId, session.validationPayload());
  if (stale.length > 0) await session.refetch(stale);
  const errors = validateClaims(manager, validators, session.validationPayload());
  if (errors.length > 0) throw invalidClaim(manager, errors);
}

/** The failures of `validators` on `payload`, in order; empty when all pass. */
export function validateClaims(
  manager: SessionManager,
  validators: readonly SessionClaimValidator[],
  payload: Readonly<Record<string, unknown>>,
): ClaimValidationError[] {
  const now = manager.now();
  const errors: ClaimValidationError[] = [];
  for (const validator of validators) {
    const result = validator.validate(payload, now);
    if (!result.isValid) errors.push({ id: validator.id, reason: result.reason });
  }
  return errors;
}

/** The `INVALID_CLAIM` answer for failed validations, with the configured status. */
export function invalidClaim(manager: SessionManager, errors: ClaimValidationError[]): SessionError {
  return new SessionError("INVALID_CLAIM", `claim validation failed: ${errors.map((error) => error.id).join(", ")}`, {
    status: manager.options.invalidClaimStatusCode,
    claimValidationErrors: errors,
  });
}

function invalidated(manager: SessionManager, claim: SessionClaim<unknown>, userId: string, payload: Readonly<Record<string, unknown>>): boolean {
  if (manager.invalidations.empty) return false;
  const at = manager.invalidations.invalidatedAt(userId, claim.key);
  return at !== undefined && (claim.getLastFetchedTime(payload) ?? -Infinity) < at;
}

// A claim recorded absent is believed while its max age lasts, unless invalidated since
// the fetch that found it absent began.
function knownAbsent(manager: SessionManager, claim: SessionClaim<unknown>, userId: string, payload: Readonly<Record<string, unknown>>, now: number): boolean {
  const handle = payload.sid;
  if (typeof handle !== "string") return false;
  const maxAgeMs = claim.defaultMaxAgeInSeconds === undefined ? ABSENCE_MAX_AGE_MS : claim.defaultMaxAgeInSeconds * 1000;
  const since = manager.absences.absentSince(handle, claim.key, now, maxAgeMs);
  if (since === undefined) return false;
  const at = manager.invalidations.empty ? undefined : manager.invalidations.invalidatedAt(userId, claim.key);
  return at === undefined || since >= at;
}

async function fetchUpdates(
  manager: SessionManager,
  claims: readonly SessionClaim<unknown>[],
  userId: string,
  handle: string,
  payload: Readonly<Record<string, unknown>>,
  options: { rememberAbsence?: boolean } = {},
): Promise<Record<string, unknown>> {
  // Stamped with when the fetch began, not when it answered: an invalidateClaim that lands
  // while fetchValue runs may have been made after the value was read, so it must win and
  // the next request fetch again.
  const startedAt = manager.now();
  const values = await Promise.all(claims.map((claim) => claim.fetchValue(userId, { handle, accessTokenPayload: payload })));
  // Only a validator's refetch is remembered: the fetches of a login or a refresh are not
  // asked for by a validator, and the first validator that needs the claim looks once more.
  claims.forEach((claim, i) => {
    if (values[i] !== undefined) manager.absences.forget(handle, claim.key);
    else if (options.rememberAbsence) manager.absences.record(handle, claim.key, startedAt);
  });
  return Object.assign({}, ...claims.map((claim, i) => claim.buildUpdate(values[i], startedAt))) as Record<string, unknown>;
}
