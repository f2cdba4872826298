import { describe } from "../check";
import { isJsonPrimitive, type JSONPrimitive } from "./checks";
import { SessionClaim, type SessionClaimOptions, type SessionClaimValidator } from "./claim";

/**
 * The validators of a {@link PrimitiveClaim}.
 *
 * @example
 * ```ts
 * const { hasValue } = Plan.validators;
 * verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, hasValue("pro", 60, "plan-is-pro")] });
 * ```
 */
export interface PrimitiveClaimValidators<T extends JSONPrimitive> {
  /**
   * Passes when the claim equals `value` (`===`) and is at most `maxAgeInSeconds` old.
   * Fails with `{ message: "value does not exist", expectedValue }`,
   * `{ message: "expired", ageInSeconds, maxAgeInSeconds }` or
   * `{ message: "wrong value", expectedValue, actualValue }`, in that order.
   *
   * @param maxAgeInSeconds Refetch and refuse values older than this. @default the claim's defaultMaxAgeInSeconds
   * @param id The id in a 403 body. @default the claim key
   */
  hasValue(value: T, maxAgeInSeconds?: number, id?: string): SessionClaimValidator;
}

/**
 * A claim holding one JSON primitive (string, finite number, boolean or null),
 * compatible with SuperTokens' `PrimitiveClaim` on both ends.
 *
 * @example
 * ```ts
 * const Plan = new PrimitiveClaim<string>({ key: "plan", fetchValue: (userId) => billing.planOf(userId), defaultMaxAgeInSeconds: 600 });
 * app.get("/reports", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, Plan.validators.hasValue("pro")] }), handler);
 * ```
 */
export class PrimitiveClaim<T extends JSONPrimitive> extends SessionClaim<T> {
  /** Validator factories; each validates its arguments and throws a TypeError naming the fix. */
  readonly validators: PrimitiveClaimValidators<T>;

  constructor(options: SessionClaimOptions<T>) {
    super(options);
    this.validators = Object.freeze({
      hasValue: (value: T, maxAgeInSeconds?: number, id?: string) => this.hasValueValidator("hasValue", value, maxAgeInSeconds, id),
    });
  }

  /** hasValue under another factory name, so that BooleanClaim's isTrue() names itself in errors. */
  protected hasValueValidator(factory: string, value: T, maxAgeInSeconds: number | undefined, id: string | undefined): SessionClaimValidator {
    if (this.parseValue(value) === undefined) {
      throw new TypeError(`latchkey: ${this.factoryName(factory)}: the expected value must be ${this.valueRule()} (got ${describe(value)}).`);
    }
    return this.validator(factory, {
      id,
      maxAgeInSeconds,
      missing: () => ({ message: "value does not exist", expectedValue: value }),
      check: (actual) => (actual === value ? undefined : { message: "wrong value", expectedValue: value, actualValue: actual }),
    });
  }

  protected parseValue(raw: unknown): T | undefined {
    // The type parameter is erased, so any JSON primitive is accepted: a claim typed
    // string that holds a number fails hasValue("x") as a wrong value, as in SuperTokens.
    return isJsonPrimitive(raw) ? (raw as T) : undefined;
  }

  protected valueRule(): string {
    return "a string, a finite number, a boolean or null";
  }
}
