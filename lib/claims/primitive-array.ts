import { describe } from "../check";
import { isJsonPrimitive, type JSONPrimitive } from "./checks";
import { SessionClaim, type SessionClaimOptions, type SessionClaimValidator } from "./claim";

/**
 * The validators of a {@link PrimitiveArrayClaim}. Each fails with
 * `{ message: "value does not exist", ... }` when the claim is missing, then
 * `{ message: "expired", ageInSeconds, maxAgeInSeconds }` when it is too old, then
 * `{ message: "wrong value", ..., actualValue }`.
 *
 * `maxAgeInSeconds` defaults to the claim's `defaultMaxAgeInSeconds`; `id` to the claim key.
 *
 * @example
 * ```ts
 * Roles.validators.includesAny(["admin", "support"]); // fails with { message: "wrong value", expectedToIncludeAtLeastOneOf: [...], actualValue: [...] }
 * ```
 */
export interface PrimitiveArrayClaimValidators<T extends JSONPrimitive> {
  /** Passes when the array contains `value`. Reasons carry `expectedToInclude: value`. */
  includes(value: T, maxAgeInSeconds?: number, id?: string): SessionClaimValidator;
  /** Passes when the array does not contain `value`. Reasons carry `expectedToNotInclude: value`. */
  excludes(value: T, maxAgeInSeconds?: number, id?: string): SessionClaimValidator;
  /** Passes when the array contains every one of `values`. Reasons carry `expectedToInclude: values`. */
  includesAll(values: readonly T[], maxAgeInSeconds?: number, id?: string): SessionClaimValidator;
  /**
   * Passes when the array contains at least one of `values`. A wrong value carries
   * `expectedToIncludeAtLeastOneOf: values`; a missing one `expectedToNotInclude: values`
   * (sic: SuperTokens' backend says so).
   */
  includesAny(values: readonly T[], maxAgeInSeconds?: number, id?: string): SessionClaimValidator;
  /** Passes when the array contains none of `values`. Reasons carry `expectedToNotInclude: values`. */
  excludesAll(values: readonly T[], maxAgeInSeconds?: number, id?: string): SessionClaimValidator;
}

/**
 * A claim holding an array of JSON primitives, compatible with SuperTokens'
 * `PrimitiveArrayClaim`; with the keys `"st-role"` and `"st-perm"` the frontend SDK's
 * `UserRoleClaim` and `PermissionClaim` read it.
 *
 * @example
 * ```ts
 * const Roles = new PrimitiveArrayClaim<string>({ key: "st-role", fetchValue: (userId) => users.roles(userId), defaultMaxAgeInSeconds: 300 });
 * app.get("/admin", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, Roles.validators.includes("admin")] }), handler);
 * ```
 */
export class PrimitiveArrayClaim<T extends JSONPrimitive> extends SessionClaim<T[]> {
  /** Validator factories; each validates its arguments and throws a TypeError naming the fix. */
  readonly validators: PrimitiveArrayClaimValidators<T>;

  constructor(options: SessionClaimOptions<T[]>) {
    super(options);
    this.validators = Object.freeze({
      includes: (value: T, maxAgeInSeconds?: number, id?: string) => {
        const expected = this.#one("includes", value);
        return this.validator("includes", {
          id,
          maxAgeInSeconds,
          missing: () => ({ message: "value does not exist", expectedToInclude: expected }),
          check: (actual) => (actual.includes(expected) ? undefined : { message: "wrong value", expectedToInclude: expected, actualValue: actual }),
        });
      },
      excludes: (value: T, maxAgeInSeconds?: number, id?: string) => {
        const expected = this.#one("excludes", value);
        return this.validator("excludes", {
          id,
          maxAgeInSeconds,
          missing: () => ({ message: "value does not exist", expectedToNotInclude: expected }),
          check: (actual) => (actual.includes(expected) ? { message: "wrong value", expectedToNotInclude: expected, actualValue: actual } : undefined),
        });
      },
      includesAll: (values: readonly T[], maxAgeInSeconds?: number, id?: string) => {
        const expected = this.#many("includesAll", values);
        return this.validator("includesAll", {
          id,
          maxAgeInSeconds,
          missing: () => ({ message: "value does not exist", expectedToInclude: [...expected] }),
          check: (actual) =>
            expected.every((v) => actual.includes(v)) ? undefined : { message: "wrong value", expectedToInclude: [...expected], actualValue: actual },
        });
      },
      includesAny: (values: readonly T[], maxAgeInSeconds?: number, id?: string) => {
        const expected = this.#many("includesAny", values);
        return this.validator("includesAny", {
          id,
          maxAgeInSeconds,
          // expectedToNotInclude is what supertokens-node sends here (the frontend SDK's
          // own copy says expectedToInclude); we follow the backend byte for byte.
          missing: () => ({ message: "value does not exist", expectedToNotInclude: [...expected] }),
          check: (actual) =>
            expected.some((v) => actual.includes(v))
              ? undefined
              : { message: "wrong value", expectedToIncludeAtLeastOneOf: [...expected], actualValue: actual },
        });
      },
      excludesAll: (values: readonly T[], maxAgeInSeconds?: number, id?: string) => {
        const expected = this.#many("excludesAll", values);
        return this.validator("excludesAll", {
          id,
          maxAgeInSeconds,
          missing: () => ({ message: "value does not exist", expectedToNotInclude: [...expected] }),
          check: (actual) =>
            expected.some((v) => actual.includes(v)) ? { message: "wrong value", expectedToNotInclude: [...expected], actualValue: actual } : undefined,
        });
      },
    });
  }

  protected parseValue(raw: unknown): T[] | undefined {
    // Only a real array of primitives: a string would pass `includes` by substring
    // ("superadmin".includes("admin")), and Array.from turns holes into undefined,
    // which is refused, instead of letting every() skip them.
    if (!Array.isArray(raw)) return undefined;
    const copy: unknown[] = Array.from(raw);
    return copy.every(isJsonPrimitive) ? (copy as T[]) : undefined;
  }

  protected valueRule(): string {
    return "an array of strings, finite numbers, booleans or null";
  }

  #one(factory: string, value: T): T {
    if (!isJsonPrimitive(value)) {
      throw new TypeError(`latchkey: ${this.factoryName(factory)}: the value must be a string, a finite number, a boolean or null (got ${describe(value)}).`);
    }
    return value;
  }

  // Copied (and frozen) so that changing the caller's array later cannot change what
  // an already-mounted route checks. An empty list would make includesAll and
  // excludesAll pass everyone and includesAny refuse everyone: almost surely a bug.
  #many(factory: string, values: readonly T[]): readonly T[] {
    const copy: T[] | undefined = Array.isArray(values) ? Array.from(values) : undefined;
    if (copy === undefined || copy.length === 0 || !copy.every((v): boolean => isJsonPrimitive(v))) {
      throw new TypeError(
        `latchkey: ${this.factoryName(factory)}: the values must be a non-empty array of strings, finite numbers, booleans or null (got ${describe(values)}).`,
      );
    }
    return Object.freeze(copy);
  }
}
