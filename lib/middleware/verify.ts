import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { SessionClaimValidator } from "../claims/types";
import { readAccessToken, type AccessCredential } from "../credentials";
import { csrfFailure, reportCsrfFailure } from "../csrf";
import { SessionError } from "../errors";
import { validatorList } from "../options/resolve";
import { runtimeOf, type Runtime } from "../runtime";
import { Session } from "../session";
import { invalidClaim, staleClaims, validateClaims } from "../sessions/claims";
import { assertLive, needsKeyReload, verifyAccess, verifyAccessReloading } from "../sessions/verification";
import type { AccessClaims } from "../tokens/access";
import { claimProperty, setSession } from "./property";
import { sendSessionError } from "./respond";
import { responseSink } from "./sink";

/** Options of {@link verifySession} and {@link getSession}. */
export interface VerifySessionOptions {
  /**
   * When `false`, a request without a (valid) access token passes with `req.session`
   * unset. An expired token still answers 401 "try refresh token", so a signed-in user
   * is refreshed rather than treated as anonymous.
   * @default true
   */
  sessionRequired?: boolean;
  /**
   * Also confirm that the session row is live: zero-lag revocation for sensitive routes,
   * at one primary-key read per request.
   * @default false
   */
  checkDatabase?: boolean;
  /**
   * Run the CSRF check (the `antiCsrf` option) for cookie-authenticated unsafe methods.
   * Set `false` only on a route with its own defence.
   * @default true unless the middleware's antiCsrf is "none"
   */
  antiCsrfCheck?: boolean;
  /**
   * The claim validators of this route, from the middleware's `globalClaimValidators`:
   * `(globals) => [...globals, Roles.validators.includes("admin")]`, or `() => []` for none.
   * @default the global validators
   */
  overrideGlobalClaimValidators?: (globalValidators: readonly SessionClaimValidator[], session: Session) => readonly SessionClaimValidator[];
}

interface Checked {
  sessionRequired: boolean;
  checkDatabase: boolean;
  antiCsrfCheck: boolean;
  override: VerifySessionOptions["overrideGlobalClaimValidators"];
}

const FLAGS = ["sessionRequired", "checkDatabase", "antiCsrfCheck"] as const;
const OPTION_NAMES = [...FLAGS, "overrideGlobalClaimValidators"] as const;

/** What the synchronous path answers when a step needs I/O (a key reload, a claim refetch, the database). */
const NEEDS_IO = Symbol("needs I/O");

/**
 * Guards a route: sets `req.session` or answers 401 (or the invalid-claim status) itself.
 * Verification is a signature check against keys in memory: no database query unless
 * `checkDatabase` is set, a claim must be fetched again, or the token names a key this
 * instance has not loaded yet.
 *
 * @example
 * ```ts
 * app.get("/api/me", verifySession(), (req, res) => res.json({ userId: req.session!.userId }));
 * app.post("/api/transfer", verifySession({ checkDatabase: true }), transfer);
 * app.get("/admin", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, Roles.validators.includes("admin")] }), admin);
 * ```
 */
export function verifySession(options?: VerifySessionOptions): RequestHandler {
  if (isRequest(options)) {
    throw new TypeError("latchkey: verifySession is a factory. Write verifySession(), not verifySession, in your route.");
  }
  const checked = checkOptions(options);
  return function latchkeyVerifySession(req: Request, res: Response, next: NextFunction): void {
    if (req.method === "OPTIONS") return next();
    let runtime: Runtime;
    try {
      runtime = runtimeOf(req);
      claimProperty(req, runtime.manager.options.sessionProperty);
    } catch (error) {
      return next(error);
    }
    // Fast path: keys in memory, nothing to fetch, no promise.
    if (runtime.manager.isReady && !checked.checkDatabase) {
      try {
        if (decideNow(runtime, req, res, checked) !== NEEDS_IO) return next();
      } catch (error) {
        return refuse(runtime, req, res, next, error);
      }
    }
    decide(runtime, req, res, checked).then(
      () => next(),
      (error: unknown) => refuse(runtime, req, res, next, error),
    );
  };
}

/**
 * The programmatic form of {@link verifySession}: resolves to the request's session
 * (also set as `req.session`), to `undefined` for an anonymous request when
 * `sessionRequired` is `false`, or rejects with a {@link SessionError} — which
 * {@link sendSessionError} (or `errorHandler()`) answers as `verifySession` would.
 */
export function getSession(req: Request, res: Response, options?: VerifySessionOptions & { sessionRequired?: true }): Promise<Session>;
export function getSession(req: Request, res: Response, options: VerifySessionOptions): Promise<Session | undefined>;
export async function getSession(req: Request, res: Response, options?: VerifySessionOptions): Promise<Session | undefined> {
  const checked = checkOptions(options);
  const runtime = runtimeOf(req);
  claimProperty(req, runtime.manager.options.sessionProperty);
  return decide(runtime, req, res, checked);
}

function decideNow(runtime: Runtime, req: Request, res: Response, options: Checked): Session | undefined | typeof NEEDS_IO {
  const found = credential(runtime, req, options);
  if (found === undefined) return anonymous(options);
  let claims: AccessClaims;
  try {
    claims = verifyAccess(runtime.manager, found.token);
  } catch (error) {
    if (needsKeyReload(error)) return NEEDS_IO;
    if (optionalRefusal(options, error)) return undefined;
    throw error;
  }
  const session = attach(runtime, req, res, found, claims);
  const validators = validatorsFor(runtime, options, session);
  if (validators.length === 0 && runtime.manager.invalidations.empty) return session;
  if (staleClaims(runtime.manager, validators, session.userId, session.validationPayload()).length > 0) return NEEDS_IO;
  assertValid(runtime, validators, session);
  return session;
}

async function decide(runtime: Runtime, req: Request, res: Response, options: Checked): Promise<Session | undefined> {
  const { manager } = runtime;
  if (!manager.isReady) await manager.ready();
  const found = credential(runtime, req, options);
  if (found === undefined) return anonymous(options);
  let claims: AccessClaims;
  try {
    claims = await verifyAccessReloading(manager, found.token);
  } catch (error) {
    if (optionalRefusal(options, error)) return undefined;
    throw error;
  }
  if (options.checkDatabase) await assertLive(manager, claims.sid);
  const session = attach(runtime, req, res, found, claims);
  const validators = validatorsFor(runtime, options, session);
  const stale = staleClaims(manager, validators, session.userId, session.validationPayload());
  // Fetched, stored and re-signed on this very response (cookie or header, front-token too), then validated.
  if (stale.length > 0) await session.refetch(stale);
  assertValid(runtime, validators, session);
  return session;
}

function credential(runtime: Runtime, req: Request, options: Checked): AccessCredential | undefined {
  const { manager, transfer } = runtime;
  const found = readAccessToken(req, transfer.names(req));
  if (found === undefined) {
    if (options.sessionRequired) throw new SessionError("UNAUTHORISED", "no access token");
    return undefined;
  }
  if (found.mode === "cookie") {
    // Two access cookies (a cookieDomain change) cannot be told apart here; the refresh
    // that this answer triggers clears the stale one.
    if (found.duplicated) throw new SessionError("TRY_REFRESH_TOKEN", "two access-token cookies");
    if (options.antiCsrfCheck) {
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

function attach(runtime: Runtime, req: Request, res: Response, found: AccessCredential, claims: AccessClaims): Session {
  const session = new Session(runtime.manager, { claims, accessToken: found.token }, responseSink(runtime, req, res, found.mode));
  setSession(req, runtime.manager.options.sessionProperty, session);
  return session;
}

function validatorsFor(runtime: Runtime, options: Checked, session: Session): readonly SessionClaimValidator[] {
  const globals = runtime.manager.options.globalClaimValidators;
  return options.override ? validatorList("overrideGlobalClaimValidators (its result)", options.override(globals, session)) : globals;
}

function assertValid(runtime: Runtime, validators: readonly SessionClaimValidator[], session: Session): void {
  const errors = validateClaims(runtime.manager, validators, session.validationPayload());
  if (errors.length > 0) throw invalidClaim(runtime.manager, errors);
}

function anonymous(options: Checked): undefined {
  if (options.sessionRequired) throw new SessionError("UNAUTHORISED", "no access token");
  return undefined;
}

// An optional session ignores a bad token, but not an expired one: refreshing it is how
// a signed-in user stays signed in.
function optionalRefusal(options: Checked, error: unknown): boolean {
  return !options.sessionRequired && error instanceof SessionError && error.code === "UNAUTHORISED";
}

// A request that carried no token gets its 401 without Set-Cookie: clearing cookies it
// never sent could wipe a session a parallel login has just set (supertokens-node#17).
function refuse(runtime: Runtime, req: Request, res: Response, next: NextFunction, error: unknown): void {
  const found = readAccessToken(req, runtime.transfer.names(req));
  sendSessionError(runtime, req, res, next, error, { mode: found?.mode ?? "cookie", kind: "access", carried: found !== undefined });
}

function checkOptions(options: VerifySessionOptions | undefined): Checked {
  const input = options ?? {};
  if (typeof input !== "object" || input === null) {
    throw new TypeError(`latchkey: verifySession options must be an object (got ${typeof input}).`);
  }
  for (const name of Object.keys(input)) {
    if (!(OPTION_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`latchkey: unknown verifySession option ${name}. Known: ${OPTION_NAMES.join(", ")}.`);
    }
  }
  for (const name of FLAGS) {
    if (input[name] !== undefined && typeof input[name] !== "boolean") {
      throw new TypeError(`latchkey: verifySession option ${name} must be true or false (got ${typeof input[name]}).`);
    }
  }
  if (input.overrideGlobalClaimValidators !== undefined && typeof input.overrideGlobalClaimValidators !== "function") {
    throw new TypeError("latchkey: verifySession option overrideGlobalClaimValidators must be a function (globalValidators, session) => validators.");
  }
  return {
    sessionRequired: input.sessionRequired ?? true,
    checkDatabase: input.checkDatabase ?? false,
    antiCsrfCheck: input.antiCsrfCheck ?? true,
    override: input.overrideGlobalClaimValidators,
  };
}

/** Catches `app.use(verifySession)`: Express would pass a request where options belong. */
export function isRequest(value: unknown): boolean {
  return typeof value === "object" && value !== null && "headers" in value && "method" in value;
}
