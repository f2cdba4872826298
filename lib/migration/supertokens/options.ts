import { describe, flag, duration, oneOf } from "../../check";
import type { Duration } from "../../duration";

/**
 * Option `migrateFromSuperTokens` (DESIGN §7.3): move the sessions of a SuperTokens core
 * whose tables sit in latchkey's MySQL database to latchkey at their next refresh, so that
 * nobody is signed out at cutover. Remove it once `npx latchkey supertokens status` shows
 * no live core session.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware({
 *   store: mysqlStore(process.env.DATABASE_URL!),
 *   migrateFromSuperTokens: { antiCsrf: "VIA_TOKEN", cookieDomain: ".example.com" },
 * }));
 * ```
 */
export interface MigrateFromSuperTokensOptions {
  /** The core's `mysql_table_names_prefix` (letters, digits, `_`). @default "" */
  tablePrefix?: string;
  /**
   * Verify the core's access tokens with its public keys until they expire, instead of
   * answering them 401 "try refresh token" (which costs each client one refresh at cutover).
   * @default false
   */
  acceptCoreAccessTokens?: boolean;
  /**
   * The least lifetime a migrated session keeps: the core has no absolute lifetime, so a
   * session older than `absoluteTtl` would otherwise end at its migration.
   * @default "30d"
   */
  minRemainingLifetime?: Duration;
  /**
   * The anti-CSRF mode the SuperTokens backend SDK ran with: `"VIA_TOKEN"` checks the
   * `anti-csrf` header against the token's value, as the core did.
   * @default "NONE"
   */
  antiCsrf?: "VIA_TOKEN" | "NONE";
  /** The `cookieDomain` of the SuperTokens app, so its cookies are cleared under it too. @default undefined */
  cookieDomain?: string;
}

/** The option, checked. */
export interface ResolvedMigration {
  tablePrefix: string;
  acceptCoreAccessTokens: boolean;
  minRemainingMs: number;
  antiCsrf: "VIA_TOKEN" | "NONE";
  cookieDomain: string | undefined;
}

const KEYS = ["tablePrefix", "acceptCoreAccessTokens", "minRemainingLifetime", "antiCsrf", "cookieDomain"];

/** Checks `migrateFromSuperTokens` once, at start-up; a bad value is a TypeError naming it. */
export function resolveMigration(input: unknown): ResolvedMigration | undefined {
  if (input === undefined) return undefined;
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new TypeError(`latchkey: option migrateFromSuperTokens must be an object such as { tablePrefix: "" } (got ${describe(input)}).`);
  }
  const options = input as MigrateFromSuperTokensOptions;
  for (const key of Object.keys(options)) {
    if (!KEYS.includes(key)) throw new TypeError(`latchkey: option migrateFromSuperTokens.${key} is unknown; it takes ${KEYS.join(", ")}.`);
  }
  const prefix = options.tablePrefix ?? "";
  if (typeof prefix !== "string" || !/^[A-Za-z0-9_]{0,40}$/.test(prefix)) {
    throw new TypeError(
      `latchkey: option migrateFromSuperTokens.tablePrefix must be the core's mysql_table_names_prefix: up to 40 letters, digits or underscores (got ${describe(prefix)}).`,
    );
  }
  const cookieDomain = options.cookieDomain;
  if (cookieDomain !== undefined && (typeof cookieDomain !== "string" || !/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(cookieDomain))) {
    throw new TypeError(`latchkey: option migrateFromSuperTokens.cookieDomain must be a host name such as ".example.com" (got ${describe(cookieDomain)}).`);
  }
  return {
    tablePrefix: prefix,
    acceptCoreAccessTokens: flag("migrateFromSuperTokens.acceptCoreAccessTokens", options.acceptCoreAccessTokens) ?? false,
    minRemainingMs: duration("migrateFromSuperTokens.minRemainingLifetime", options.minRemainingLifetime ?? "30d"),
    antiCsrf: oneOf("migrateFromSuperTokens.antiCsrf", options.antiCsrf ?? "NONE", ["VIA_TOKEN", "NONE"] as const),
    cookieDomain,
  };
}
