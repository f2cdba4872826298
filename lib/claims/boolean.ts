import type { SessionClaimOptions, SessionClaimValidator } from "./claim";
import { PrimitiveClaim, type PrimitiveClaimValidators } from "./primitive";

/**
 * The validators of a {@link BooleanClaim}.
 *
 * @example
 * ```ts
 * EmailVerified.validators.isTrue();   // id "st-ev", the claim's defaultMaxAgeInSeconds
 * EmailVerified.validators.isFalse(60, "not-yet-verified");
 * ```
 */
export interface BooleanClaimValidators extends PrimitiveClaimValidators<boolean> {
  /** `hasValue(true, maxAgeInSeconds, id)`. */
  isTrue(maxAgeInSeconds?: number, id?: string): SessionClaimValidator;
  /** `hasValue(false, maxAgeInSeconds, id)`. */
  isFalse(maxAgeInSeconds?: number, id?: string): SessionClaimValidator;
}

/**
 * A claim holding `true` or `false`, compatible with SuperTokens' `BooleanClaim`; with
 * the key `"st-ev"` the frontend SDK's `EmailVerificationClaim` reads it.
 *
 * Without a max age (here or in `defaultMaxAgeInSeconds`) a stored `false` is never
 * refetched, exactly as in SuperTokens: set the claim again when the user verifies,
 * or give `isTrue` a max age.
 *
 * @example
 * ```ts
 * const EmailVerified = new BooleanClaim({ key: "st-ev", fetchValue: (userId) => users.isVerified(userId) });
 * app.use(sessionMiddleware({ claims: [EmailVerified], globalClaimValidators: [EmailVerified.validators.isTrue(60)] }));
 * ```
 */
export class BooleanClaim extends PrimitiveClaim<boolean> {
  /** Validator factories; each validates its arguments and throws a TypeError naming the fix. */
  override readonly validators: BooleanClaimValidators;

  constructor(options: SessionClaimOptions<boolean>) {
    super(options);
    this.validators = Object.freeze({
      hasValue: (value: boolean, maxAgeInSeconds?: number, id?: string) => this.hasValueValidator("hasValue", value, maxAgeInSeconds, id),
      isTrue: (maxAgeInSeconds?: number, id?: string) => this.hasValueValidator("isTrue", true, maxAgeInSeconds, id),
      isFalse: (maxAgeInSeconds?: number, id?: string) => this.hasValueValidator("isFalse", false, maxAgeInSeconds, id),
    });
  }

  protected override parseValue(raw: unknown): boolean | undefined {
    return typeof raw === "boolean" ? raw : undefined;
  }

  protected override valueRule(): string {
    return "a boolean";
  }
}
