import type { SessionClaimValidator } from "../claims/claim";
import type { Duration } from "../duration";
import type { Session } from "../session";
import type { AccessTokenPayload } from "../types/payload";

// The options of what every adapter offers — a guard, and createSession on a response —
// with their checks. Public types live apart from the functions that take a manager, so
// the published declarations show nothing of latchkey's machinery.

/** Options of `verifySession` and `getSession` (every framework's guard takes the same). */
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

/** Options of `getSessionFromHeaders`: those of `verifySession`, and what headers cannot tell. */
export interface HeadersSessionOptions extends VerifySessionOptions {
  /**
   * Whether the connection came over TLS: its cookies then carry the `__Host-`/`__Secure-`
   * names (always so in production, as for `verifySession`).
   * @default true when the request carries a `__Host-` cookie (which only an https page can set)
   */
  secure?: boolean;
  /** The client's IP, for `onRefused` and the debug log. */
  ip?: string;
}

/** {@link VerifySessionOptions} checked once, when the guard is built. */
export interface VerifyPolicy {
  sessionRequired: boolean;
  checkDatabase: boolean;
  antiCsrfCheck: boolean;
  override: VerifySessionOptions["overrideGlobalClaimValidators"];
}

const FLAGS = ["sessionRequired", "checkDatabase", "antiCsrfCheck"] as const;
const OPTION_NAMES = [...FLAGS, "overrideGlobalClaimValidators"] as const;

/** Checks a guard's options once, when it is built: unknown names and wrong types throw a `TypeError` naming them. */
export function verifyPolicy(options: VerifySessionOptions | undefined, guard = "verifySession"): VerifyPolicy {
  const input = options ?? {};
  if (typeof input !== "object" || input === null) {
    throw new TypeError(`latchkey: ${guard} options must be an object (got ${typeof input}).`);
  }
  for (const name of Object.keys(input)) {
    if (!(OPTION_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`latchkey: unknown ${guard} option ${name}. Known: ${OPTION_NAMES.join(", ")}.`);
    }
  }
  for (const name of FLAGS) {
    if (input[name] !== undefined && typeof input[name] !== "boolean") {
      throw new TypeError(`latchkey: ${guard} option ${name} must be true or false (got ${typeof input[name]}).`);
    }
  }
  if (input.overrideGlobalClaimValidators !== undefined && typeof input.overrideGlobalClaimValidators !== "function") {
    throw new TypeError(`latchkey: ${guard} option overrideGlobalClaimValidators must be a function (globalValidators, session) => validators.`);
  }
  return {
    sessionRequired: input.sessionRequired ?? true,
    checkDatabase: input.checkDatabase ?? false,
    antiCsrfCheck: input.antiCsrfCheck ?? true,
    override: input.overrideGlobalClaimValidators,
  };
}

/** Options of `createSession` on a response (`res.createSession` in Express), and of the no-request create. */
export interface CreateSessionOptions {
  /** Custom claims for the access token, readable by the frontend; at most 2 KB as JSON. */
  accessTokenPayload?: AccessTokenPayload & Record<string, unknown>;
  /** Server-side data kept with the session, never sent to the client; at most 64 KB as JSON. */
  sessionData?: Record<string, unknown>;
  /**
   * `false` ("remember me" unticked): cookies that end with the browser session, and an idle
   * lifetime of at most 12 hours (unless `sessionTtl.idle` says otherwise).
   * @default true
   */
  rememberMe?: boolean;
  /** This session's own idle and absolute lifetimes, instead of `refreshTokenTtl` and `absoluteTtl`. */
  sessionTtl?: { idle?: Duration; absolute?: Duration };
  /**
   * Run the CSRF origin check before setting cookies (login CSRF: a cross-site form logging
   * the victim in to the attacker's account). Set `false` only on a route with its own defence.
   * @default true
   */
  csrfCheck?: boolean;
  /**
   * When the request carries a live session of the same user, renew its `authTime` in place
   * (a step-up re-authentication for `requireFresh`) instead of starting a new session.
   * @default false
   */
  reauthenticate?: boolean;
}

const CREATE_OPTIONS = ["accessTokenPayload", "sessionData", "rememberMe", "sessionTtl", "csrfCheck", "reauthenticate"];

/** Checks `createSession` options: unknown names and wrong types throw a `TypeError` naming them. */
export function checkCreateOptions(options: unknown): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError("latchkey: createSession options must be an object { accessTokenPayload?, sessionData?, rememberMe?, sessionTtl?, csrfCheck?, reauthenticate? }.");
  }
  for (const name of Object.keys(options)) {
    if (!CREATE_OPTIONS.includes(name)) throw new TypeError(`latchkey: unknown createSession option ${name}. Known: ${CREATE_OPTIONS.join(", ")}.`);
  }
  for (const name of ["csrfCheck", "reauthenticate"] as const) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined && typeof value !== "boolean") throw new TypeError(`latchkey: createSession option ${name} must be true or false (got ${typeof value}).`);
  }
}
