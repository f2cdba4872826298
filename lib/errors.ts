/**
 * Every way a session can fail at run time, as a closed set of codes.
 *
 * Programmer mistakes (bad options, a user id that is not a string) throw `TypeError`
 * instead, at start-up or at the call that made them.
 */
export type SessionErrorCode =
  | "UNAUTHORISED"
  | "TRY_REFRESH_TOKEN"
  | "TOKEN_THEFT_DETECTED"
  | "INVALID_CLAIM"
  | "CROSS_ORIGIN_REQUEST"
  | "STORE_UNAVAILABLE";

/**
 * One failed validator, as a 403 body lists it in `claimValidationErrors`.
 *
 * @example
 * ```ts
 * const error: ClaimValidationError = { id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } };
 * ```
 */
export interface ClaimValidationError {
  id: string;
  reason: Record<string, unknown>;
}

interface ErrorSpec {
  readonly status: number;
  /** The `message` the frontend SDK sees; the 401 texts are fixed by the wire protocol. */
  readonly message: string;
}

/** The one table mapping code → HTTP status → response message. The README prints it. */
export const SESSION_ERRORS: Readonly<Record<SessionErrorCode, ErrorSpec>> = Object.freeze({
  UNAUTHORISED: { status: 401, message: "unauthorised" },
  TRY_REFRESH_TOKEN: { status: 401, message: "try refresh token" },
  TOKEN_THEFT_DETECTED: { status: 401, message: "token theft detected" },
  INVALID_CLAIM: { status: 403, message: "invalid claim" },
  CROSS_ORIGIN_REQUEST: { status: 403, message: "cross-origin request refused" },
  STORE_UNAVAILABLE: { status: 503, message: "session store unavailable" },
});

/**
 * A session failure: no, bad or expired token, detected theft, or a store that cannot
 * be reached. `status` is the HTTP status latchkey answers with, so Express's default
 * error handler picks the right code even without {@link errorHandler}.
 *
 * @example
 * ```ts
 * try {
 *   await res.createSession(userId);
 * } catch (err) {
 *   if (err instanceof SessionError && err.code === "STORE_UNAVAILABLE") { ... }
 *   throw err;
 * }
 * ```
 */
export class SessionError extends Error {
  override readonly name = "SessionError";
  readonly code: SessionErrorCode;
  readonly status: number;
  /**
   * Why, in words safe to log (never a token, hash or key). Not sent to clients:
   * telling an attacker which check failed only helps them.
   */
  readonly reason: string | undefined;
  /** For `INVALID_CLAIM`: which validators failed and why (sent, as the frontend SDK reads it). */
  readonly claimValidationErrors: readonly ClaimValidationError[] | undefined;

  constructor(
    code: SessionErrorCode,
    reason?: string,
    options?: { cause?: unknown; status?: number; claimValidationErrors?: readonly ClaimValidationError[] },
  ) {
    super(SESSION_ERRORS[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options?.status ?? SESSION_ERRORS[code].status;
    this.reason = reason;
    this.claimValidationErrors = options?.claimValidationErrors;
  }

  /**
   * The http-errors shape (`statusCode`, `expose`), so a framework's own error handler —
   * NestJS's, LoopBack's, Koa's default — answers with latchkey's status even where the
   * app forgot latchkey's error handling: 4xx messages are exposed, a 503's is not.
   */
  get statusCode(): number {
    return this.status;
  }

  get expose(): boolean {
    return this.status < 500;
  }

  /**
   * The JSON body for this error, exactly what the wire protocol promises: the SuperTokens
   * frontend matches 401 bodies, and reads `claimValidationErrors` of an invalid claim;
   * other statuses carry the code.
   */
  toBody(): { message: string; code?: SessionErrorCode; claimValidationErrors?: readonly ClaimValidationError[] } {
    if (this.code === "INVALID_CLAIM") return { message: this.message, claimValidationErrors: this.claimValidationErrors ?? [] };
    return this.status === 401 ? { message: this.message } : { message: this.message, code: this.code };
  }
}

/** Wraps a store fault so that a caller sees one code, with the driver error kept as `cause`. */
export function storeUnavailable(cause: unknown): SessionError {
  return new SessionError("STORE_UNAVAILABLE", "the session store failed", { cause });
}
