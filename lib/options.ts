import type { SessionClaim, SessionClaimValidator } from "./claims/claim";
import { parseDuration, type Duration } from "./duration";
import type { SigningAlgorithm } from "./keys";
import type { Logger } from "./logger";
import type { SessionHooks } from "./hooks";
import type { MySqlConnection } from "./store/mysql";
import type { SessionStore } from "./store/store";
import type { SessionProperty } from "./types/config";

/** An origin allowed to send unsafe requests: exact (`"https://app.example.com"`), a RegExp, or a function. */
export type TrustedOrigin = string | RegExp;
/** What `trustedOrigins` accepts. */
export type TrustedOrigins = readonly TrustedOrigin[] | ((origin: string) => boolean);

/**
 * Options of {@link sessionMiddleware}. Every option is checked when the factory runs;
 * a bad one throws a `TypeError` that names it and says how to fix it.
 */
export interface SessionMiddlewareOptions extends SessionHooks {
  /**
   * Where sessions live: a store from {@link mysqlStore} or {@link memoryStore}, or
   * anything `mysqlStore` accepts (a `mysql://` URI, mysql2 pool options, a mysql2 pool).
   * @default a MySQL store on `LATCHKEY_DATABASE_URL`; else the in-memory store (refused when `NODE_ENV=production`)
   */
  store?: SessionStore | MySqlConnection;
  /**
   * Path under which the refresh, sign-out and JWKS endpoints are mounted, from the site root.
   * @default "/auth"
   */
  apiBasePath?: string;
  /** Access-token (JWT) lifetime. @default "15m" */
  accessTokenTtl?: Duration;
  /** Idle lifetime of a session: it ends this long after the last refresh. @default "30d" */
  refreshTokenTtl?: Duration;
  /** Absolute lifetime of a session from its creation; refreshing never extends it. @default "180d" */
  absoluteTtl?: Duration;
  /**
   * How long the refresh token a rotation replaced still earns the same successor
   * (parallel tabs, a lost response). Reuse after this window is treated as theft.
   * @default "10s"
   */
  refreshGrace?: Duration;
  /** How often a new signing key takes over. @default "7d" */
  keyRotationInterval?: Duration;
  /**
   * Signature algorithm of new signing keys. Changing it (or upgrading from 0.1, whose
   * default was RS256) keeps the current key signing until its slot ends; keys already
   * published keep verifying until they retire.
   * @default "ES256"
   */
  algorithm?: SigningAlgorithm;
  /** The `iss` claim written and required; never taken from the request. @default "latchkey" */
  issuer?: string;
  /** The `aud` claim written and required, when set. @default undefined */
  audience?: string;
  /** `Domain` of the token cookies, to share a session across subdomains. @default undefined (host-only) */
  cookieDomain?: string;
  /**
   * `Secure` on the token cookies. `"auto"` sets it whenever `NODE_ENV=production` and on
   * every request that came over HTTPS (honouring Express's `trust proxy`).
   * @default "auto"
   */
  cookieSecure?: boolean | "auto";
  /** `SameSite` of the token cookies; `"none"` requires `cookieSecure: true`. @default "lax" */
  cookieSameSite?: "lax" | "strict" | "none";
  /**
   * The `cookieDomain` you used before, so that a browser still holding cookies scoped to
   * it gets them cleared at its next refresh instead of sending two `sAccessToken`s.
   * @default undefined
   */
  olderCookieDomain?: string;
  /**
   * CSRF defence for cookie-mode requests with unsafe methods (POST, PUT, PATCH, DELETE).
   * `"origin"`: refuse an `Origin` (or `Sec-Fetch-Site: cross-site`) that is neither the
   * API's own nor in `trustedOrigins`, and with `cookieSameSite: "none"` also require
   * the `rid` header the SuperTokens SDK sends. `"custom-header"`: the same, and always
   * require `rid`. `"none"`: no check (only for apps with their own CSRF defence).
   * Header-mode requests need none: a page cannot make a browser send `Authorization`.
   * @default "origin"
   */
  antiCsrf?: "origin" | "custom-header" | "none";
  /**
   * Origins besides the API's own that may send unsafe requests, e.g. a frontend on
   * another port or subdomain: exact origins (`"https://app.example.com"`, compared
   * case-insensitively on scheme and host), RegExps tested against the origin in lower
   * case (`/^https:\/\/[a-z0-9-]+\.example\.com$/`), or a function of it. A string with
   * `*` is refused: it would match nothing.
   * @default []
   */
  trustedOrigins?: TrustedOrigins;
  /**
   * How often each instance deletes expired sessions and retired keys, in small batches
   * on an unref'd timer; `false` leaves it to `npx latchkey cleanup` or your own job.
   * @default "1h"
   */
  cleanupInterval?: Duration | false;
  /**
   * How many verified access tokens each instance remembers, so a token presented again
   * costs a map lookup instead of a signature check (expiry and revocation are still
   * checked on every request); 0 turns it off. Each entry is one token string and its claims.
   * @default 5000
   */
  verifyCacheSize?: number;
  /**
   * How many revoked sessions each instance remembers so that their access tokens are
   * refused before they expire. Past it the oldest are forgotten (a warning says so) and
   * their tokens fall back to expiry.
   * @default 200000
   */
  revocationListSize?: number;
  /**
   * Log why each request was refused (a missing cookie, an expired or forged token, a
   * failed CSRF check...), never a token. Also on with `DEBUG=latchkey`.
   * @default false
   */
  debug?: boolean;
  /**
   * The request property latchkey's session lives under. Set it (e.g. `"latchkey"`) to run
   * beside express-session or passport, which own `req.session`; declare the same name for
   * TypeScript with `declare module "latchkey" { interface TypeConfig { sessionProperty: "latchkey" } }`.
   * @default "session"
   */
  sessionProperty?: SessionProperty;
  /**
   * Claims fetched at `createSession` (and again at a refresh that finds one missing) and
   * written into the access-token payload as `{ v, t }`.
   * @default []
   */
  claims?: readonly SessionClaim<unknown>[];
  /** Validators every `verifySession` runs, unless it overrides them. @default [] */
  globalClaimValidators?: readonly SessionClaimValidator[];
  /** Status of the "invalid claim" answer; must differ from 401 (the SDK refreshes on 401). @default 403 */
  invalidClaimStatusCode?: number;
  /**
   * Keep at most this many live sessions per user: a login past it revokes the least
   * recently refreshed ones (reason `evicted`) in the same transaction as the insert.
   * @default undefined (no limit)
   */
  maxSessionsPerUser?: number;
  /**
   * In cookie mode, also send the access token (never the refresh token) in the
   * `st-access-token` header, so the SDK's `getAccessToken()` returns it, for calling other
   * services with it. Page script, injected script included, can then read the access token:
   * see SECURITY.md.
   * @default false
   */
  exposeAccessTokenToFrontendInCookieBasedAuth?: boolean;
  /** Where warnings and store faults are reported; `false` silences them. @default console */
  logger?: Logger | false;
  /** Milliseconds since the epoch; replace it to freeze time in tests. @default Date.now */
  clock?: () => number;
}

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
  logger: Logger | false | undefined;
  clock: () => number;
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
  "onSessionCreated",
  "onRefreshed",
  "onTheftDetected",
  "onRevoked",
  "onRefused",
] as const;

/** Validates options once, at start-up, and fills in defaults. */
export function resolveOptions(input: SessionMiddlewareOptions | undefined): ResolvedOptions {
  if (input === undefined) input = {};
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError(`latchkey: sessionMiddleware options must be an object (got ${describe(input)}).`);
  }
  for (const name of Object.keys(input)) {
    if (!(KNOWN_OPTIONS as readonly string[]).includes(name)) {
      const guess = closest(name, KNOWN_OPTIONS);
      throw new TypeError(`latchkey: unknown option ${name}.${guess ? ` Did you mean ${guess}?` : ""}`);
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
    onSessionCreated: fn("onSessionCreated", input.onSessionCreated),
    onRefreshed: fn("onRefreshed", input.onRefreshed),
    onTheftDetected: fn("onTheftDetected", input.onTheftDetected),
    onRevoked: fn("onRevoked", input.onRevoked),
    onRefused: fn("onRefused", input.onRefused),
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

function duration(name: string, value: unknown): number {
  const ms = parseDuration(value);
  if (ms === undefined) {
    throw new TypeError(
      `latchkey: option ${name} must be seconds as a positive number or a string such as "500ms", "15m" or "30d" (got ${describe(value)}).`,
    );
  }
  return ms;
}

function count(name: string, value: unknown, min = 0): number {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > 1_000_000) {
    throw new TypeError(`latchkey: option ${name} must be a whole number from ${min} to 1000000 (got ${describe(value)}).`);
  }
  return value as number;
}

function flag(name: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== "boolean") {
    throw new TypeError(`latchkey: option ${name} must be true or false (got ${describe(value)}).`);
  }
  return value;
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

function trustedOrigins(value: unknown): (origin: string) => boolean {
  if (typeof value === "function") {
    const decide = value as (origin: string) => unknown;
    return (origin) => {
      const normalised = normaliseOrigin(origin);
      return normalised !== undefined && decide(normalised) === true;
    };
  }
  if (!Array.isArray(value)) {
    throw new TypeError(
      `latchkey: option trustedOrigins must be an array of origins such as ["https://app.example.com"], RegExps, or a function (got ${describe(value)}).`,
    );
  }
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const item of value) {
    if (item instanceof RegExp) {
      // A global or sticky RegExp keeps state between test() calls: it would trust an origin every other time.
      patterns.push(new RegExp(item.source, item.flags.replace(/[gy]/g, "")));
      continue;
    }
    if (typeof item === "string" && item.includes("*")) {
      throw new TypeError(
        `latchkey: option trustedOrigins lists ${JSON.stringify(item)}, but a string matches one origin exactly and "*" matches nothing. ` +
          "Use a RegExp, e.g. /^https:\\/\\/[a-z0-9-]+\\.example\\.com$/, or a function.",
      );
    }
    const url = typeof item === "string" ? parseUrl(item) : undefined;
    const origin = url && !url.username && !url.password && url.pathname === "/" && !url.search && !url.hash ? normaliseOrigin(item) : undefined;
    if (origin === undefined) {
      throw new TypeError(
        `latchkey: option trustedOrigins must list origins (scheme://host[:port], no path) such as "https://app.example.com" (got ${describe(item)}).`,
      );
    }
    exact.add(origin);
  }
  return (origin) => {
    const normalised = normaliseOrigin(origin);
    return normalised !== undefined && (exact.has(normalised) || patterns.some((pattern) => pattern.test(normalised)));
  };
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** An origin with scheme and host in lower case and the default port dropped; `undefined` for anything else. */
export function normaliseOrigin(origin: string): string | undefined {
  // "null" (sandboxed frames, file://) and garbage are no origin at all.
  const url = parseUrl(origin);
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) return undefined;
  return url.origin;
}

function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 255) {
    throw new TypeError(`latchkey: option ${name} must be a non-empty string of at most 255 characters (got ${describe(value)}).`);
  }
  return value;
}

function oneOf<T extends string | boolean>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    const list = allowed.map((item) => JSON.stringify(item)).join(", ");
    throw new TypeError(`latchkey: option ${name} must be one of ${list} (got ${describe(value)}).`);
  }
  return value as T;
}

function fn<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== "function") {
    throw new TypeError(`latchkey: option ${name} must be a function (got ${describe(value)}).`);
  }
  return value;
}

function logger(value: unknown): Logger | false | undefined {
  if (value === undefined || value === false) return value;
  const candidate = value as Partial<Logger>;
  if (typeof candidate?.warn !== "function" || typeof candidate.error !== "function") {
    throw new TypeError(`latchkey: option logger must have warn() and error() methods, or be false (got ${describe(value)}).`);
  }
  return value as Logger;
}

/** Shows a bad value without echoing anything that could be a secret. */
function describe(value: unknown): string {
  if (typeof value === "string") return value.length > 64 ? `a ${value.length}-character string` : JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
