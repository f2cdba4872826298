// Lives with the error that carries it, so that lib/errors.ts imports nothing.
export type { ClaimValidationError } from "../errors";

/**
 * What a validator says about one access-token payload.
 *
 * @example
 * ```ts
 * const result = EmailVerified.validators.isTrue().validate(payload, Date.now());
 * if (!result.isValid) console.log(result.reason); // { message: "wrong value", expectedValue: true, actualValue: false }
 * ```
 */
export type ClaimValidationResult = { isValid: true } | { isValid: false; reason: Record<string, unknown> };

/**
 * What `fetchValue` learns about the session it fetches for.
 *
 * @example
 * ```ts
 * const Tenant = new PrimitiveClaim<string>({ key: "tenant", fetchValue: (userId, { accessTokenPayload }) => tenants.of(userId, accessTokenPayload) });
 * ```
 */
export interface ClaimFetchContext {
  /** The session handle. */
  handle: string;
  /** The access-token payload before this fetch. */
  accessTokenPayload: Readonly<Record<string, unknown>>;
}

/**
 * Reads a claim's current value for a user; `undefined` leaves the payload unchanged.
 *
 * @example
 * ```ts
 * const fetchRoles: ClaimFetcher<string[]> = async (userId) => (await db.roles(userId)) ?? undefined;
 * ```
 */
export type ClaimFetcher<T> = (userId: string, context: ClaimFetchContext) => T | undefined | Promise<T | undefined>;

/**
 * Options of every claim class.
 *
 * @example
 * ```ts
 * new PrimitiveArrayClaim<string>({ key: "st-perm", fetchValue: (userId) => users.permissions(userId), defaultMaxAgeInSeconds: 300 });
 * ```
 */
export interface SessionClaimOptions<T> {
  /** Where the claim lives at the payload root, e.g. `"st-ev"`, `"st-role"`, `"st-perm"` for the SuperTokens frontend SDK. */
  key: string;
  /** Reads the value for a user, at `createSession` and whenever a validator finds the claim missing or stale. */
  fetchValue: ClaimFetcher<T>;
  /**
   * Max age of a validator created without one, in seconds.
   * @default undefined: the claim is refetched only when it is missing.
   */
  defaultMaxAgeInSeconds?: number;
}
