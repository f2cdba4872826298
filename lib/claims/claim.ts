import { describe, didYouMean } from "../check";
import { checkClaimKey, checkMaxAge, checkValidatorId, ownData } from "./checks";
import type { ClaimFetcher, ClaimFetchContext, ClaimValidationResult, SessionClaimOptions } from "./types";

// The types live in ./types; importing them from here, beside the class, also works.
export type { ClaimFetchContext, ClaimFetcher, ClaimValidationError, ClaimValidationResult, SessionClaimOptions } from "./types";

/**
 * A check of an access-token payload, made by a claim's `validators` or by
 * `requireFresh`. It reads only the payload and the time it is given.
 *
 * @example
 * ```ts
 * const validator = Roles.validators.includes("admin");
 * if (validator.shouldRefetch(payload, now)) {
 *   payload = { ...payload, ...Roles.buildUpdate(await Roles.fetchValue(userId, context), now) };
 * }
 * validator.validate(payload, now); // { isValid: false, reason: { message: "wrong value", expectedToInclude: "admin", actualValue: [] } }
 * ```
 */
export interface SessionClaimValidator {
  /** The `id` of this validator's entry in a 403 body's `claimValidationErrors`. */
  readonly id: string;
  /** The claim it reads; undefined for validators of latchkey's own claims (requireFresh). */
  readonly claim: SessionClaim<unknown> | undefined;
  /** True when the claim is missing or older than the validator's max age: fetch it before `validate`. */
  shouldRefetch(payload: Readonly<Record<string, unknown>>, nowMs: number): boolean;
  /** Checks the payload as it is; never throws, whatever the payload holds. */
  validate(payload: Readonly<Record<string, unknown>>, nowMs: number): ClaimValidationResult;
}

interface Entry<T> {
  v: T;
  t: number;
}

const OPTION_NAMES: readonly string[] = ["key", "fetchValue", "defaultMaxAgeInSeconds"];
// The frontend SDK's claims take `id` and `refresh`; SuperTokens' validators take `maxAgeInSeconds`.
const LIKELY_MEANT = new Map([
  ["id", "key"],
  ["refresh", "fetchValue"],
  ["fetch", "fetchValue"],
  ["maxAgeInSeconds", "defaultMaxAgeInSeconds"],
  ["maxAge", "defaultMaxAgeInSeconds"],
]);

/**
 * A value kept in the access-token payload as `{ "<key>": { v: value, t: fetchedAtMs } }`,
 * the shape the SuperTokens frontend SDK reads. Extend {@link PrimitiveClaim},
 * {@link BooleanClaim} or {@link PrimitiveArrayClaim} rather than this class.
 *
 * @example
 * ```ts
 * const update = EmailVerified.buildUpdate(await EmailVerified.fetchValue(userId, context), Date.now());
 * // { "st-ev": { v: true, t: 1700000000000 } }, or {} when fetchValue returned undefined
 * ```
 */
export abstract class SessionClaim<T> {
  /** The payload key. */
  readonly key: string;
  /** Max age of validators created without one; undefined: refetch only when missing. */
  readonly defaultMaxAgeInSeconds: number | undefined;
  readonly #fetchValue: ClaimFetcher<T>;
  readonly #kind: string;

  protected constructor(options: SessionClaimOptions<T>) {
    // Errors name the class the user wrote (`new EmailVerifiedClaim(...)`).
    const kind = new.target.name || "SessionClaim";
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new TypeError(`latchkey: new ${kind}() needs an options object { key, fetchValue } (got ${describe(options)}).`);
    }
    for (const name of Object.keys(options)) {
      if (OPTION_NAMES.includes(name)) continue;
      throw new TypeError(`latchkey: new ${kind}(): unknown option ${name}.${didYouMean(name, OPTION_NAMES, LIKELY_MEANT)}`);
    }
    this.#kind = kind;
    this.key = checkClaimKey(`new ${kind}()`, options.key);
    const subject = `new ${kind}("${this.key}")`;
    if (typeof options.fetchValue !== "function") {
      throw new TypeError(`latchkey: ${subject}: option fetchValue must be a function (userId, context) => value (got ${describe(options.fetchValue)}).`);
    }
    this.#fetchValue = options.fetchValue;
    this.defaultMaxAgeInSeconds =
      options.defaultMaxAgeInSeconds === undefined
        ? undefined
        : checkMaxAge(subject, "option defaultMaxAgeInSeconds", options.defaultMaxAgeInSeconds, "Omit it to refetch only when the claim is missing.");
  }

  /** Calls the `fetchValue` option. */
  fetchValue(userId: string, context: ClaimFetchContext): T | undefined | Promise<T | undefined> {
    return this.#fetchValue(userId, context);
  }

  /**
   * The payload change that stores `value` fetched at `nowMs`: `{ [key]: { v, t } }`.
   * `undefined` gives `{}`, as in SuperTokens, where a fetch that returns undefined
   * leaves the claim as it was (missing or stale). `null` is a value: PrimitiveClaim and
   * PrimitiveArrayClaim elements store it, BooleanClaim refuses it. A value of the wrong
   * shape throws a TypeError rather than being stored.
   */
  buildUpdate(value: T | undefined, nowMs: number): Record<string, unknown> {
    if (value === undefined) return {};
    const stored = this.parseValue(value);
    if (stored === undefined) {
      // Storing it would make every later read count the claim as missing.
      throw new TypeError(
        `latchkey: ${this.#kind}("${this.key}") cannot store ${describe(value)}: its values must be ${this.valueRule()}. ` +
          "Return undefined from fetchValue to leave the claim unchanged.",
      );
    }
    if (!Number.isFinite(nowMs)) throw new TypeError(`latchkey: buildUpdate needs nowMs in milliseconds since the epoch (got ${describe(nowMs)}).`);
    return { [this.key]: { v: stored, t: nowMs } };
  }

  /** The payload change that removes the claim: `{ [key]: null }` (a merge deletes null keys). */
  removalUpdate(): Record<string, unknown> {
    return { [this.key]: null };
  }

  /** The stored value, or undefined when the claim is missing or malformed. Arrays are copies. */
  getValueFromPayload(payload: Readonly<Record<string, unknown>>): T | undefined {
    return this.#read(payload)?.v;
  }

  /** When the stored value was fetched (ms since the epoch), or undefined when the claim is missing or malformed. */
  getLastFetchedTime(payload: Readonly<Record<string, unknown>>): number | undefined {
    return this.#read(payload)?.t;
  }

  /** Returns a safe copy of `raw` when it is a value of this claim, else undefined. Never throws. */
  protected abstract parseValue(raw: unknown): T | undefined;

  /** Describes the accepted values, for error messages: "a boolean". */
  protected abstract valueRule(): string;

  /** `BooleanClaim("st-ev").validators.isTrue()`, to name a factory in its errors. */
  protected factoryName(factory: string): string {
    return `${this.#kind}("${this.key}").validators.${factory}()`;
  }

  /**
   * The one validator shape every SuperTokens claim uses: missing, then expired, then
   * `check`. Missing or expired also means `shouldRefetch`.
   */
  protected validator(factory: string, rule: ValidatorRule<T>): SessionClaimValidator {
    const subject = this.factoryName(factory);
    const id = rule.id === undefined ? this.key : checkValidatorId(subject, rule.id);
    const maxAge =
      rule.maxAgeInSeconds === undefined
        ? this.defaultMaxAgeInSeconds
        : checkMaxAge(subject, "maxAgeInSeconds", rule.maxAgeInSeconds, "Omit it to use the claim's defaultMaxAgeInSeconds.");
    const read = (payload: unknown): Entry<T> | undefined => this.#read(payload);
    return Object.freeze({
      id,
      claim: this as SessionClaim<unknown>,
      shouldRefetch(payload: Readonly<Record<string, unknown>>, nowMs: number): boolean {
        const entry = read(payload);
        return entry === undefined || isExpired(entry.t, nowMs, maxAge);
      },
      validate(payload: Readonly<Record<string, unknown>>, nowMs: number): ClaimValidationResult {
        const entry = read(payload);
        if (entry === undefined) return { isValid: false, reason: rule.missing() };
        if (isExpired(entry.t, nowMs, maxAge)) {
          return { isValid: false, reason: { message: "expired", ageInSeconds: (nowMs - entry.t) / 1000, maxAgeInSeconds: maxAge } };
        }
        const reason = rule.check(entry.v);
        return reason === undefined ? { isValid: true } : { isValid: false, reason };
      },
    });
  }

  #read(payload: unknown): Entry<T> | undefined {
    const entry = ownData(payload, this.key);
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return undefined;
    // An entry without a usable `t` would never expire (SuperTokens computes NaN ages);
    // counting it as missing makes the next request refetch and repair it instead.
    const t = ownData(entry, "t");
    if (typeof t !== "number" || !Number.isFinite(t)) return undefined;
    const v = this.parseValue(ownData(entry, "v"));
    return v === undefined ? undefined : { v, t };
  }
}

/** How a validator factory describes its check to `SessionClaim.validator` (for subclasses). */
export interface ValidatorRule<T> {
  id: string | undefined;
  maxAgeInSeconds: number | undefined;
  /** The reason when the claim is missing: SuperTokens echoes the expectation. */
  missing(): Record<string, unknown>;
  /** The reason the stored value fails, or undefined when it passes. */
  check(value: T): Record<string, unknown> | undefined;
}

// Same comparison for shouldRefetch and validate, so a validator never reports
// "expired" for a claim it did not ask to refetch. Strictly older than the max age:
// a claim exactly maxAge old is still fresh (SuperTokens: `t < now - maxAge * 1000`).
function isExpired(fetchedAtMs: number, nowMs: number, maxAgeInSeconds: number | undefined): boolean {
  return maxAgeInSeconds !== undefined && (nowMs - fetchedAtMs) / 1000 > maxAgeInSeconds;
}
