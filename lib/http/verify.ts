import type { SessionClaimValidator } from "../claims/claim";
import { SessionError } from "../errors";
import { validatorList } from "../options/resolve";
import { Session } from "../session";
import { staleClaims, validateClaims, invalidClaim } from "../sessions/claims";
import { isUnauthorised, openSession } from "../sessions/open";
import { needsKeyReload, verifyAccess } from "../sessions/verification";
import { isCoreCredential, openCoreSession, readCoreAccessToken } from "../migration/supertokens/http";
import type { AccessClaims } from "../tokens/access";
import { readAccessToken, type AccessCredential, type TransferMode } from "./credentials";
import { csrfFailure, reportCsrfFailure } from "./csrf";
import type { VerifyPolicy } from "./options";
import { sendSessionError } from "./respond";
import type { Runtime } from "./runtime";
import type { HttpRequest, HttpResponse } from "./seam";
import { responseSink } from "./sink";

/** What the synchronous path answers when a step needs I/O (a key reload, a claim refetch, the database). */
export const NEEDS_IO = Symbol("needs I/O");

/** What {@link verifyNowDeferring} answers when the request keeps the verified token to build its `Session` on first read. */
export const DEFERRED = Symbol("session deferred");

/**
 * A request that can hold a verified token and build its `Session` only when the app reads
 * it (Express's `req.session` getter): a route that reads nothing, or only `userId`, then
 * costs no `Session` or response writer per request. `false`: it cannot here (the property
 * is taken by an own value), so the session is built at once.
 */
export interface DeferringRequest {
  deferSession(claims: AccessClaims, accessToken: string, mode: TransferMode): boolean;
}

/**
 * The request's session, decided without a promise when nothing needs I/O: keys in memory,
 * no `checkDatabase`, no claim to fetch. Answers {@link NEEDS_IO} when a step does (then
 * {@link verifyRequest} decides), `undefined` for an anonymous optional request, or throws
 * the `SessionError` to answer with.
 */
export function verifyNow(runtime: Runtime, req: HttpRequest, res: HttpResponse, policy: VerifyPolicy): Session | undefined | typeof NEEDS_IO {
  return decideNow(runtime, req, res, policy, undefined) as Session | undefined | typeof NEEDS_IO;
}

/**
 * As {@link verifyNow}, but when no claim validator needs the session (none global, no
 * override, no claim invalidated), the verified token is handed to `deferring` and
 * {@link DEFERRED} answered: the session is the request's, built on first read.
 */
export function verifyNowDeferring(
  runtime: Runtime,
  req: HttpRequest,
  res: HttpResponse,
  policy: VerifyPolicy,
  deferring: DeferringRequest,
): Session | undefined | typeof NEEDS_IO | typeof DEFERRED {
  return decideNow(runtime, req, res, policy, deferring);
}

function decideNow(
  runtime: Runtime,
  req: HttpRequest,
  res: HttpResponse,
  policy: VerifyPolicy,
  deferring: DeferringRequest | undefined,
): Session | undefined | typeof NEEDS_IO | typeof DEFERRED {
  if (!runtime.manager.isReady || policy.checkDatabase) return NEEDS_IO;
  const found = credential(runtime, req, policy);
  if (found === undefined) return undefined;
  if (isCoreCredential(runtime, found.token)) return NEEDS_IO;
  let claims: AccessClaims;
  try {
    claims = verifyAccess(runtime.manager, found.token);
  } catch (error) {
    if (needsKeyReload(error)) return NEEDS_IO;
    if (!policy.sessionRequired && isUnauthorised(error)) return undefined;
    throw error;
  }
  if (
    deferring !== undefined &&
    policy.override === undefined &&
    runtime.manager.options.globalClaimValidators.length === 0 &&
    runtime.manager.invalidations.empty &&
    deferring.deferSession(claims, found.token, found.mode)
  ) {
    return DEFERRED;
  }
  const session = Session.open(runtime.manager, { claims, accessToken: found.token }, responseSink(runtime, req, res, found.mode));
  req.setSession(session);
  const validators = validatorsFor(runtime, policy, session);
  if (validators.length === 0 && runtime.manager.invalidations.empty) return session;
  if (staleClaims(runtime.manager, validators, session.userId, session.validationPayload()).length > 0) return NEEDS_IO;
  const errors = validateClaims(runtime.manager, validators, session.validationPayload());
  if (errors.length > 0) throw invalidClaim(runtime.manager, errors);
  return session;
}

/** The request's session, through the full sequence (`openSession`); rejects with the `SessionError` to answer with. */
export async function verifyRequest(runtime: Runtime, req: HttpRequest, res: HttpResponse, policy: VerifyPolicy): Promise<Session | undefined> {
  const { manager } = runtime;
  if (!manager.isReady) await manager.ready();
  const found = credential(runtime, req, policy);
  if (found === undefined) return undefined;
  if (isCoreCredential(runtime, found.token)) return openCoreSession(runtime, req, res, policy, found, (session) => validatorsFor(runtime, policy, session));
  return openSession(manager, found.token, {
    checkDatabase: policy.checkDatabase,
    optional: !policy.sessionRequired,
    validators: (session) => validatorsFor(runtime, policy, session),
    sink: responseSink(runtime, req, res, found.mode),
    attach: (session) => req.setSession(session),
  });
}

/**
 * Answers a refused verification. A request that carried no token gets its 401 without
 * Set-Cookie: clearing cookies it never sent could wipe a session a parallel login has
 * just set (supertokens-node#17). `false`: not a session failure, the adapter's to pass on.
 */
export function refuseRequest(runtime: Runtime, req: HttpRequest, res: HttpResponse, error: unknown): boolean {
  const found = readAccessToken(req, runtime.transfer.names(req), runtime.manager.keys);
  return sendSessionError(runtime, req, res, error, { mode: found?.mode ?? "cookie", kind: "access", carried: found !== undefined });
}

// The access token to verify, after the checks that need no crypto: presence, duplicates,
// CSRF for a cookie. `undefined` only for an anonymous request that may pass.
function credential(runtime: Runtime, req: HttpRequest, policy: VerifyPolicy): AccessCredential | undefined {
  const { manager, transfer } = runtime;
  const found = readAccessToken(req, transfer.names(req), manager.keys) ?? readCoreAccessToken(runtime, req);
  if (found === undefined) {
    if (policy.sessionRequired) throw new SessionError("UNAUTHORISED", "no access token");
    return undefined;
  }
  if (found.mode === "cookie") {
    // Two access cookies (a cookieDomain change) cannot be told apart here; the refresh
    // that this answer triggers clears the stale one.
    if (found.duplicated) throw new SessionError("TRY_REFRESH_TOKEN", "two access-token cookies");
    if (policy.antiCsrfCheck) {
      const failure = csrfFailure(req, manager.options);
      if (failure !== undefined) {
        reportCsrfFailure(manager.diagnostics, req, failure);
        // "try refresh token" is what the frontend SDK expects for a failed CSRF check.
        throw new SessionError("TRY_REFRESH_TOKEN", `CSRF check failed: ${failure}`);
      }
    }
  }
  return found;
}

function validatorsFor(runtime: Runtime, policy: VerifyPolicy, session: Session): readonly SessionClaimValidator[] {
  const globals = runtime.manager.options.globalClaimValidators;
  return policy.override ? validatorList("overrideGlobalClaimValidators (its result)", policy.override(globals, session)) : globals;
}
