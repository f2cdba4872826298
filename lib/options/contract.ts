import type { SessionClaim, SessionClaimValidator } from "../claims/claim";
import type { Duration } from "../duration";
import type { SessionHooks } from "../hooks";
import type { SigningAlgorithm } from "../keys";
import type { Logger, RecordLogger } from "../logger";
import type { MigrateFromSuperTokensOptions } from "../migration/supertokens/options";
import type { MySqlConnection } from "../store/mysql-pool";
import type { SessionStore } from "../store/store";
import type { SessionProperty } from "../types/config";

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
  /**
   * Where warnings, store faults and (with `debug`) refusals are reported; `false` silences
   * them. An object with `warn(message)` and `error(message, error?)` receives text, as
   * `console` does; an object with only `log(record)` receives structured records
   * `{ level, message, ...fields }` (`code`, `handle`, `userId`, `clientIp`, `operation`,
   * `errorCode`, the cause as `err`), never a token.
   * @default console
   * @example
   * ```ts
   * sessionMiddleware({ logger: { log: (record) => pinoLogger[record.level](record, record.message) } });
   * ```
   */
  logger?: Logger | RecordLogger | false;
  /** Milliseconds since the epoch; replace it to freeze time in tests. @default Date.now */
  clock?: () => number;
  /**
   * Move the sessions of a SuperTokens core whose tables sit in this MySQL database to
   * latchkey at their next refresh, so nobody signs in again at cutover (docs/supertokens-migration.md).
   * Needs the MySQL store. See {@link MigrateFromSuperTokensOptions}.
   * @default undefined
   * @example
   * ```ts
   * sessionMiddleware({ store: mysqlStore(uri), migrateFromSuperTokens: { antiCsrf: "VIA_TOKEN" } });
   * ```
   */
  migrateFromSuperTokens?: MigrateFromSuperTokensOptions;
}
