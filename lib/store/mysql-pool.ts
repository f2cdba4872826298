import mysql from "mysql2/promise";
import type { Pool, PoolOptions } from "mysql2/promise";
import { resolveSsl, type SslSetting } from "./tls";
import { takeSslFromUri } from "./tls-uri";

/** What a MySQL store can be built from: a `mysql://` URI, mysql2 pool options, or a mysql2 pool. */
export type MySqlConnection = string | PoolOptions | Pool | { promise(): Pool };

/** Replaces the password in a connection URI, for error messages and logs. */
export function redactUri(uri: string): string {
  // Works on malformed URIs too (those are the ones that end up in error messages):
  // everything between the user name's ':' and the last '@' is the password.
  const at = uri.lastIndexOf("@");
  if (at === -1) return uri;
  const scheme = uri.indexOf("://");
  const userStart = scheme !== -1 && scheme < at ? scheme + 3 : 0;
  const colon = uri.indexOf(":", userStart);
  return colon === -1 || colon > at ? uri : `${uri.slice(0, colon + 1)}***${uri.slice(at)}`;
}

export function tablePrefix(option: unknown): string {
  const fromEnv = option === undefined ? process.env.LATCHKEY_TABLE_PREFIX : undefined;
  const prefix = option ?? (fromEnv || "latchkey_");
  if (typeof prefix !== "string" || !/^[A-Za-z0-9_]{0,40}$/.test(prefix)) {
    const source = fromEnv ? "LATCHKEY_TABLE_PREFIX" : "option tablePrefix";
    throw new TypeError(`latchkey: ${source} must be up to 40 letters, digits or underscores (got ${JSON.stringify(prefix)}).`);
  }
  return prefix;
}

export function openPool(connection: MySqlConnection, ssl: SslSetting | undefined): { pool: Pool; owned: boolean } {
  if (typeof connection === "string") {
    const fromUri = takeSslFromUri(validateUri(connection));
    if (ssl !== undefined && fromUri.uri !== connection) {
      throw new TypeError("latchkey: TLS is set both in the MySQL URI (ssl, ssl-mode or ssl-ca) and by option ssl: keep one of them.");
    }
    const tls = ssl === undefined ? fromUri.ssl : resolveSsl(ssl, "option ssl");
    return { pool: mysql.createPool({ ...poolDefaults(), uri: fromUri.uri, ...(tls ? { ssl: tls } : {}) }), owned: true };
  }
  if (isPromisePool(connection) || (connection && typeof (connection as { promise?: unknown }).promise === "function")) {
    if (ssl !== undefined) {
      throw new TypeError("latchkey: option ssl applies to pools latchkey creates; set ssl on the mysql2 pool you pass instead.");
    }
    return { pool: isPromisePool(connection) ? connection : (connection as { promise(): Pool }).promise(), owned: false };
  }
  if (connection && typeof connection === "object") {
    const options = connection as PoolOptions;
    const tls = ssl === undefined ? undefined : resolveSsl(ssl, "option ssl");
    return { pool: mysql.createPool({ ...poolDefaults(), ...options, ...(tls ? { ssl: tls } : {}) }), owned: true };
  }
  throw new TypeError(
    "latchkey: a MySQL store needs a mysql:// URI, mysql2 pool options or a mysql2 pool " +
      `(got ${connection === null ? "null" : typeof connection}).`,
  );
}

function validateUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new TypeError(
      `latchkey: the MySQL URI is not a valid URL (got ${JSON.stringify(redactUri(uri))}). ` + "Use mysql://user:password@host:3306/database.",
    );
  }
  if (url.protocol !== "mysql:") {
    throw new TypeError(
      `latchkey: the store URI must start with mysql:// (got ${JSON.stringify(redactUri(uri))}). ` +
        "latchkey stores sessions in MySQL or MariaDB: mysql://user:password@host:3306/database.",
    );
  }
  if (url.pathname.length <= 1) {
    throw new TypeError(
      `latchkey: the MySQL URI names no database (got ${JSON.stringify(redactUri(uri))}). ` +
        "Add it as the path: mysql://user:password@host:3306/database.",
    );
  }
  return uri;
}

function poolDefaults(): PoolOptions {
  // trace: false — mysql2 otherwise captures a stack trace on every query, about 3 % of a
  // login's CPU in the profile; latchkey's errors name the operation that failed instead.
  return { connectionLimit: 10, connectTimeout: 5000, enableKeepAlive: true, waitForConnections: true, trace: false };
}

function isPromisePool(value: unknown): value is Pool {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Pool).getConnection === "function" &&
    typeof (value as Pool).execute === "function" &&
    typeof (value as { promise?: unknown }).promise !== "function"
  );
}

