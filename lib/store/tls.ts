/**
 * TLS for the MySQL store: the `ssl` store option, checked and turned into mysql2's `ssl`
 * pool option. The `ssl`, `ssl-mode` and `ssl-ca` parameters of a `mysql://` URI are
 * read in lib/store/tls-uri.ts and resolved here too.
 *
 * Modes follow MySQL's `--ssl-mode`:
 *
 * | mode              | encrypts | verifies the chain | verifies the host name |
 * | ----------------- | -------- | ------------------ | ---------------------- |
 * | `disabled`        | no       | –                  | –                      |
 * | `required`        | yes      | no                 | no                     |
 * | `verify-ca`       | yes      | yes                | no                     |
 * | `verify-identity` | yes      | yes                | yes (the default)      |
 *
 * The chain is verified against the given CA, else Node's trusted CAs. There is no
 * `preferred`: mysql2 never falls back to an unencrypted connection.
 *
 * Host names are verified only for a host given by name: for an IP address mysql2 sends
 * no server name, and Node then checks the certificate against `localhost` instead of
 * the address (spec/tls.spec.ts shows it). Connect by name for `verify-identity`.
 */
import type { SslOptions as Mysql2SslOptions } from "mysql2";
import { describe } from "../check";
import { pem, profileCa, type Pem } from "./tls-pem";

/** How much of the server's certificate a connection checks, after MySQL's `--ssl-mode`. */
export type SslMode = "disabled" | "required" | "verify-ca" | "verify-identity";

/** TLS protocol versions Node accepts. */
export type TlsVersion = "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";

/** A profile name mysql2 knows: its CA bundle, verified like any other CA. */
export type SslProfile = "Amazon RDS";

/**
 * TLS settings in mysql2's own shape, restricted to those mysql2 actually applies (it
 * silently ignores `pfx`, `crl` and `servername`, which latchkey therefore refuses).
 * One difference: `verifyIdentity` defaults to `rejectUnauthorized`, so
 * `{ rejectUnauthorized: true }` (PlanetScale's example) verifies the host name too.
 */
export interface SslOptions {
  /** CA certificates to trust instead of Node's defaults, in PEM (not a file name). */
  ca?: Pem;
  /** Client certificate chain in PEM, for users created `REQUIRE X509`; needs `key`. */
  cert?: Pem;
  /** Private key of `cert`, in PEM. */
  key?: Pem;
  /** Passphrase of an encrypted `key`. */
  passphrase?: string;
  /** OpenSSL cipher list. @default Node's */
  ciphers?: string;
  /** @default Node's ("TLSv1.2") */
  minVersion?: TlsVersion;
  /** @default Node's ("TLSv1.3") */
  maxVersion?: TlsVersion;
  /** Verify the certificate chain; `false` is mode `required`. @default true */
  rejectUnauthorized?: boolean;
  /** Verify the host name too; `false` is mode `verify-ca`. @default rejectUnauthorized */
  verifyIdentity?: boolean;
}

/**
 * What the `ssl` store option accepts: `true` (mode `verify-identity` against Node's
 * trusted CAs), `false` (no TLS), a {@link SslMode}, a mysql2 {@link SslProfile}, or
 * {@link SslOptions}.
 */
export type SslSetting = boolean | SslMode | SslProfile | SslOptions;

type Verifying = Exclude<SslMode, "disabled">;
type Material = Omit<SslOptions, "rejectUnauthorized" | "verifyIdentity">;
/** A setting checked but not yet defaulted: off, or on with the mode it states, if any. */
export type Parsed = { off: true } | { off: false; material: Material; mode: Verifying | undefined };

const OFF: Parsed = { off: true };
const MODES: readonly SslMode[] = ["disabled", "required", "verify-ca", "verify-identity"];
const VERSIONS: readonly string[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const SETTINGS: readonly string[] = [
  "ca", "cert", "key", "passphrase", "ciphers", "minVersion", "maxVersion", "rejectUnauthorized", "verifyIdentity",
];

const SETTING_RULE =
  'must be true, false, "verify-identity", "verify-ca", "required", "disabled", ' +
  'a mysql2 SSL profile name ("Amazon RDS") or an object of TLS settings';
const SETTING_HINT = "true encrypts and verifies the server's certificate and host name against Node's trusted CAs.";

/**
 * Checks the `ssl` store option and returns mysql2's `ssl` pool option, or `undefined`
 * for no TLS (`undefined`, `false`, `"disabled"`). The result always states
 * `rejectUnauthorized` and `verifyIdentity`, and is a new object each call (mysql2
 * writes to it and caches its TLS context by identity).
 *
 * @param source how the value is named in error messages, e.g. `"option ssl"`.
 * @throws TypeError `latchkey: <source> ...` naming the bad value (never key material) and the fix.
 * @example
 * ```ts
 * resolveSsl(true, "option ssl");          // { rejectUnauthorized: true, verifyIdentity: true }
 * resolveSsl("verify-ca", "option ssl");   // { rejectUnauthorized: true, verifyIdentity: false }
 * resolveSsl({ ca: fs.readFileSync("ca.pem") }, "option ssl"); // verify-identity against that CA
 * resolveSsl("Amazon RDS", "option ssl");  // mysql2's RDS CA bundle, verify-identity
 * ```
 */
export function resolveSsl(value: unknown, source: string): Mysql2SslOptions | undefined {
  if (value === undefined) return undefined;
  return toMysql2(parseSetting(value, source));
}

// ---- the ssl option (and the URI's ssl parameter) ----

export function parseSetting(value: unknown, source: string): Parsed {
  if (value === false) return OFF;
  if (value === true) return { off: false, material: {}, mode: undefined };
  if (typeof value === "string") return parseName(value, source);
  if (isPlainObject(value)) return parseObject(value, source);
  throw new TypeError(`latchkey: ${source} ${SETTING_RULE} (got ${describe(value)}). ${SETTING_HINT}`);
}

function parseName(value: string, source: string): Parsed {
  const mode = modeOf(value);
  if (mode === "disabled") return OFF;
  if (mode !== undefined) return { off: false, material: {}, mode };
  const ca = profileCa(value);
  if (ca !== undefined) return { off: false, material: { ca }, mode: undefined };
  if (normalized(value) === "preferred") throw preferred(source);
  if (value === "true" || value === "false") {
    // An environment variable passed straight through: "false" must not turn TLS on.
    throw new TypeError(
      `latchkey: ${source} must be the boolean ${value}, not the string ${JSON.stringify(value)} ` +
        '(environment variables are strings: compare, e.g. ssl: process.env.DB_SSL === "true").',
    );
  }
  throw new TypeError(`latchkey: ${source} ${SETTING_RULE} (got ${describe(value)}). ${SETTING_HINT}`);
}

function parseObject(settings: Record<string, unknown>, source: string): Parsed {
  for (const key of Object.keys(settings)) {
    if (!SETTINGS.includes(key)) {
      throw new TypeError(
        `latchkey: ${source} has an unknown setting ${describe(key)}, which mysql2 would silently ignore. ` +
          `The settings are ${SETTINGS.join(", ")}.`,
      );
    }
  }
  const material = readMaterial(settings, source);
  return { off: false, material, mode: readMode(settings, source, material.ca !== undefined) };
}

function readMaterial(settings: Record<string, unknown>, source: string): Material {
  const material: Material = {};
  if (settings.ca !== undefined) material.ca = pem(settings.ca, at(source, "ca"), "ca");
  if (settings.cert !== undefined) material.cert = pem(settings.cert, at(source, "cert"), "cert");
  if (settings.key !== undefined) material.key = pem(settings.key, at(source, "key"), "key");
  if ((material.cert === undefined) !== (material.key === undefined)) {
    const [given, missing] = material.cert === undefined ? ["key", "cert"] : ["cert", "key"];
    throw new TypeError(
      `latchkey: ${source} gives a ${given} without its ${missing}: a client certificate needs both cert and key.`,
    );
  }
  if (settings.passphrase !== undefined) {
    if (typeof settings.passphrase !== "string") {
      throw new TypeError(`latchkey: ${at(source, "passphrase")} must be a string (got a ${typeof settings.passphrase}).`);
    }
    if (material.key === undefined) {
      throw new TypeError(`latchkey: ${source} gives a passphrase but no key for it to decrypt.`);
    }
    material.passphrase = settings.passphrase;
  }
  if (settings.ciphers !== undefined) {
    if (typeof settings.ciphers !== "string" || settings.ciphers === "") {
      throw new TypeError(
        `latchkey: ${at(source, "ciphers")} must be an OpenSSL cipher list such as "ECDHE-RSA-AES128-GCM-SHA256:HIGH" ` +
          `(got ${describe(settings.ciphers)}).`,
      );
    }
    material.ciphers = settings.ciphers;
  }
  return readVersions(settings, source, material);
}

function readVersions(settings: Record<string, unknown>, source: string, material: Material): Material {
  for (const key of ["minVersion", "maxVersion"] as const) {
    const version = settings[key];
    if (version === undefined) continue;
    if (typeof version !== "string" || !VERSIONS.includes(version)) {
      throw new TypeError(
        `latchkey: ${at(source, key)} must be "TLSv1.2" or "TLSv1.3" (or the obsolete "TLSv1", "TLSv1.1") ` +
          `(got ${describe(version)}).`,
      );
    }
    material[key] = version as TlsVersion;
  }
  if (material.minVersion && material.maxVersion && material.minVersion > material.maxVersion) {
    throw new TypeError(
      `latchkey: ${source} has minVersion ${material.minVersion} above maxVersion ${material.maxVersion}; no version could be used.`,
    );
  }
  return material;
}

/** The mode an object states through rejectUnauthorized/verifyIdentity, if it states one. */
function readMode(settings: Record<string, unknown>, source: string, hasCa: boolean): Verifying | undefined {
  const verifyChain = flag(settings.rejectUnauthorized, at(source, "rejectUnauthorized"));
  const verifyName = flag(settings.verifyIdentity, at(source, "verifyIdentity"));
  if (verifyChain === undefined && verifyName === undefined) return undefined;
  if (verifyChain !== false) return verifyName === false ? "verify-ca" : "verify-identity";
  if (verifyName === true) {
    throw new TypeError(
      `latchkey: ${source} sets verifyIdentity: true with rejectUnauthorized: false, but the host name in an ` +
        "unverified certificate proves nothing. Remove rejectUnauthorized: false to verify both, or verifyIdentity to only encrypt.",
    );
  }
  if (hasCa) {
    throw new TypeError(
      `latchkey: ${source} gives a ca but sets rejectUnauthorized: false, so the certificate would never be checked ` +
        "against it. Remove rejectUnauthorized: false to verify the server against the ca, or remove the ca.",
    );
  }
  return "required";
}

function flag(value: unknown, name: string): boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  throw new TypeError(`latchkey: ${name} must be true or false (got ${describe(value)}).`);
}

export function modeOf(value: string): SslMode | undefined {
  return MODES.find((mode) => mode === normalized(value));
}

export function normalized(value: string): string {
  return value.toLowerCase().replace(/_/g, "-");
}

export function preferred(source: string): TypeError {
  return new TypeError(
    `latchkey: ${source} cannot be "preferred": mysql2 never falls back to an unencrypted connection. ` +
      'Use "required" to encrypt without verifying the certificate, or "verify-identity" to verify it too.',
  );
}

export function toMysql2(parsed: Parsed): Mysql2SslOptions | undefined {
  if (parsed.off) return undefined;
  const mode = parsed.mode ?? "verify-identity";
  // Node accepts mixed arrays of strings and Buffers; mysql2's typings do not say so.
  return {
    ...(parsed.material as Mysql2SslOptions),
    rejectUnauthorized: mode !== "required",
    verifyIdentity: mode === "verify-identity",
  };
}

function at(source: string, key: string): string {
  return source.startsWith("option ") ? `${source}.${key}` : `${key} in ${source}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
