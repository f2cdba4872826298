import type { SessionClaim, SessionClaimValidator } from "../claims/claim";
import { count, describe, didYouMean, duration, flag, fn, nonEmptyString, oneOf } from "../check";
import type { SessionHooks } from "../hooks";
import type { SigningAlgorithm } from "../keys";
import type { Logger, RecordLogger } from "../logger";
import { resolveMigration, type ResolvedMigration } from "../migration/supertokens/options";
import type { MySqlConnection } from "../store/mysql-pool";
import type { SessionStore } from "../store/store";
import type { SessionMiddlewareOptions } from "./contract";
import { trustedOrigins } from "./origins";

export interface ResolvedOptions extends SessionHooks {
  store: SessionStore | MySqlConnection | undefined;
  apiBasePath: string;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  absoluteTtlMs: number;
  refreshGraceMs: number;
  keyRotationMs: number;
  algorithm: SigningAlgorithm;
  issuer: string;
  audience: string | undefined;
  cookieDomain: string | undefined;
  cookieSecure: boolean | "auto";
  cookieSameSite: "lax" | "strict" | "none";
  olderCookieDomain: string | undefined;
  antiCsrf: "origin" | "custom-header" | "none";
  /** Whether an origin (as the request sent it) is trusted by the option. */
  trustedOrigin: (origin: string) => boolean;
  cleanupIntervalMs: number | false;
  verifyCacheSize: number;
  revocationListSize: number;
  debug: boolean;
  sessionProperty: string;
  claims: readonly SessionClaim<unknown>[];
  globalClaimValidators: readonly SessionClaimValidator[];
  invalidClaimStatusCode: number;
  maxSessionsPerUser: number | undefined;
  exposeAccessToken: boolean;
  logger: Logger | RecordLogger | false | undefined;
  clock: () => number;
  migrateFromSuperTokens: ResolvedMigration | undefined;
}

const DEFAULTS = {
  apiBasePath: "/auth",
  accessTokenTtl: "15m",
  refreshTokenTtl: "30d",
  absoluteTtl: "180d",
  refreshGrace: "10s",
  keyRotationInterval: "7d",
} as const;

const KNOWN_OPTIONS = [
  "store",
  "apiBasePath",
  "accessTokenTtl",
  "refreshTokenTtl",
  "absoluteTtl",
  "refreshGrace",
  "keyRotationInterval",
  "algorithm",
  "issuer",
  "audience",
  "cookieDomain",
  "cookieSecure",
  "cookieSameSite",
  "olderCookieDomain",
  "antiCsrf",
  "trustedOrigins",
  "cleanupInterval",
  "verifyCacheSize",
  "revocationListSize",
  "debug",
  "sessionProperty",
  "claims",
  "globalClaimValidators",
  "invalidClaimStatusCode",
  "maxSessionsPerUser",
  "exposeAccessTokenToFrontendInCookieBasedAuth",
  "logger",
  "clock",
  "migrateFromSuperTokens",
  "onSessionCreated",
  "onRefreshed",
  "onTheftDetected",
  "onRevoked",
  "onRefused",
  "onStoreError",
] as const;

/** Validates options once, at start-up, and fills in defaults. */
export function resolveOptions(input: SessionMiddlewareOptions | undefined): ResolvedOptions {
  if (input === undefined) input = {};
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError(`latchkey: sessionMiddleware options must be an object (got ${describe(input)}).`);
  }
  for (const name of Object.keys(input)) {
    if (!(KNOWN_OPTIONS as readonly string[]).includes(name)) {
      throw new TypeError(`latchkey: unknown option ${name}.${didYouMean(name, KNOWN_OPTIONS)}`);
    }
  }

  const resolved: ResolvedOptions = {
    store: input.store,
    apiBasePath: basePath(input.apiBasePath ?? DEFAULTS.apiBasePath),
    accessTokenTtlMs: duration("accessTokenTtl", input.accessTokenTtl ?? DEFAULTS.accessTokenTtl),
    refreshTokenTtlMs: duration("refreshTokenTtl", input.refreshTokenTtl ?? DEFAULTS.refreshTokenTtl),
    absoluteTtlMs: duration("absoluteTtl", input.absoluteTtl ?? DEFAULTS.absoluteTtl),
    refreshGraceMs: duration("refreshGrace", input.refreshGrace ?? DEFAULTS.refreshGrace),
    keyRotationMs: duration("keyRotationInterval", input.keyRotationInterval ?? DEFAULTS.keyRotationInterval),
    algorithm: oneOf("algorithm", input.algorithm ?? "ES256", ["ES256", "RS256"] as const),
    issuer: nonEmptyString("issuer", input.issuer ?? "latchkey"),
    audience: input.audience === undefined ? undefined : nonEmptyString("audience", input.audience),
    cookieDomain: input.cookieDomain === undefined ? undefined : domain(input.cookieDomain, "cookieDomain"),
    cookieSecure: oneOf("cookieSecure", input.cookieSecure ?? "auto", [true, false, "auto"] as const),
    cookieSameSite: oneOf("cookieSameSite", input.cookieSameSite ?? "lax", ["lax", "strict", "none"] as const),
    olderCookieDomain: input.olderCookieDomain === undefined ? undefined : domain(input.olderCookieDomain, "olderCookieDomain"),
    antiCsrf: oneOf("antiCsrf", input.antiCsrf ?? "origin", ["origin", "custom-header", "none"] as const),
    trustedOrigin: trustedOrigins(input.trustedOrigins ?? []),
    cleanupIntervalMs: input.cleanupInterval === false ? false : duration("cleanupInterval", input.cleanupInterval ?? "1h"),
    verifyCacheSize: count("verifyCacheSize", input.verifyCacheSize ?? 5000),
    revocationListSize: count("revocationListSize", input.revocationListSize ?? 200_000, 1),
    debug: flag("debug", input.debug) ?? /(^|,)\s*latchkey\s*(,|$)/.test(process.env.DEBUG ?? ""),
    sessionProperty: propertyName(input.sessionProperty ?? "session"),
    claims: claimList(input.claims ?? []),
    globalClaimValidators: validatorList("globalClaimValidators", input.globalClaimValidators ?? []),
    invalidClaimStatusCode: statusCode(input.invalidClaimStatusCode ?? 403),
    maxSessionsPerUser: input.maxSessionsPerUser === undefined ? undefined : count("maxSessionsPerUser", input.maxSessionsPerUser, 1),
    exposeAccessToken: flag("exposeAccessTokenToFrontendInCookieBasedAuth", input.exposeAccessTokenToFrontendInCookieBasedAuth) ?? false,
    logger: logger(input.logger),
    clock: fn("clock", input.clock) ?? Date.now,
    migrateFromSuperTokens: resolveMigration(input.migrateFromSuperTokens),
    onSessionCreated: fn("onSessionCreated", input.onSessionCreated),
    onRefreshed: fn("onRefreshed", input.onRefreshed),
    onTheftDetected: fn("onTheftDetected", input.onTheftDetected),
    onRevoked: fn("onRevoked", input.onRevoked),
    onRefused: fn("onRefused", input.onRefused),
    onStoreError: fn("onStoreError", input.onStoreError),
  };

  const { accessTokenTtlMs, refreshTokenTtlMs, absoluteTtlMs, refreshGraceMs, keyRotationMs } = resolved;
  if (accessTokenTtlMs < 1000) {
    throw new TypeError(
      `latchkey: option accessTokenTtl must be at least 1s (got ${accessTokenTtlMs}ms): a JWT's exp is in whole seconds, and no token outlives its lifetime.`,
    );
  }
  if (accessTokenTtlMs >= refreshTokenTtlMs) {
    throw new TypeError(
      `latchkey: option accessTokenTtl (${accessTokenTtlMs / 1000}s) must be shorter than refreshTokenTtl (${refreshTokenTtlMs / 1000}s).`,
    );
  }
  if (refreshTokenTtlMs > absoluteTtlMs) {
    throw new TypeError(
      `latchkey: option refreshTokenTtl (${refreshTokenTtlMs / 1000}s) must not exceed absoluteTtl (${absoluteTtlMs / 1000}s).`,
    );
  }
  if (refreshGraceMs > 300_000) {
    throw new TypeError(
      `latchkey: option refreshGrace must be at most 5 minutes (got ${refreshGraceMs / 1000}s): a stolen refresh token is reusable for that long.`,
    );
  }
  if (keyRotationMs < 2 * accessTokenTtlMs) {
    throw new TypeError(
      `latchkey: option keyRotationInterval (${keyRotationMs / 1000}s) must be at least twice accessTokenTtl (${accessTokenTtlMs / 1000}s).`,
    );
  }
  const production = process.env.NODE_ENV === "production";
  if (production && resolved.cookieSecure === false) {
    throw new TypeError(
      "latchkey: option cookieSecure is false but NODE_ENV=production: session cookies must be Secure in production. Remove the option.",
    );
  }
  if (resolved.cookieSameSite === "none" && resolved.cookieSecure !== true) {
    throw new TypeError(
      'latchkey: option cookieSameSite "none" needs cookieSecure: true; browsers drop SameSite=None cookies that are not Secure.',
    );
  }
  return resolved;
}

function propertyName(value: unknown): string {
  if (typeof value !== "string" || !/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/.test(value) || value in Object.prototype) {
    throw new TypeError(`latchkey: option sessionProperty must be a plain property name such as "latchkey" (got ${describe(value)}).`);
  }
  return value;
}

function statusCode(value: unknown): number {
  if (!Number.isInteger(value) || (value as number) < 400 || (value as number) > 499 || value === 401) {
    throw new TypeError(
      `latchkey: option invalidClaimStatusCode must be a 4xx status other than 401 (got ${describe(value)}): ` +
        "the frontend SDK refreshes the session on 401, so an invalid claim must answer something else.",
    );
  }
  return value as number;
}

function claimList(value: unknown): readonly SessionClaim<unknown>[] {
  if (!Array.isArray(value) || value.some((claim) => typeof claim?.key !== "string" || typeof claim?.fetchValue !== "function")) {
    throw new TypeError("latchkey: option claims must be an array of claims such as new BooleanClaim({ key, fetchValue }).");
  }
  const keys = value.map((claim: SessionClaim<unknown>) => claim.key);
  const repeated = keys.find((key, index) => keys.indexOf(key) !== index);
  if (repeated !== undefined) throw new TypeError(`latchkey: option claims lists two claims with the key ${JSON.stringify(repeated)}.`);
  return Object.freeze([...value]);
}

export function validatorList(name: string, value: unknown): readonly SessionClaimValidator[] {
  if (!Array.isArray(value) || value.some((validator) => typeof validator?.id !== "string" || typeof validator?.validate !== "function")) {
    throw new TypeError(
      `latchkey: option ${name} must be an array of claim validators such as EmailVerified.validators.isTrue() (got ${describe(value)}).`,
    );
  }
  return Object.freeze([...value]);
}

function basePath(value: unknown): string {
  if (typeof value !== "string" || !/^(\/[A-Za-z0-9._~-]+)+\/?$/.test(value)) {
    throw new TypeError(
      `latchkey: option apiBasePath must be a path from the site root such as "/auth" (got ${describe(value)}).`,
    );
  }
  return value.endsWith("/") ? value.slice(0, -1) : value;
}

function domain(value: unknown, name: string): string {
  if (typeof value !== "string" || !/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(value)) {
    throw new TypeError(`latchkey: option ${name} must be a host name such as "example.com" (got ${describe(value)}).`);
  }
  return value;
}

function logger(value: unknown): Logger | RecordLogger | false | undefined {
  if (value === undefined || value === false) return value;
  const candidate = value as Partial<Logger & RecordLogger>;
  if (typeof candidate?.log === "function" && typeof candidate.warn !== "function" && typeof candidate.error !== "function") {
    return value as RecordLogger;
  }
  if (typeof candidate?.warn !== "function" || typeof candidate.error !== "function") {
    throw new TypeError(
      `latchkey: option logger must have warn() and error() methods (text), or only a log(record) method (structured records), or be false (got ${describe(value)}).`,
    );
  }
  return value as Logger;
}
