/**
 * TLS for the MySQL store: the `ssl` store option and the `ssl`, `ssl-mode` and `ssl-ca`
 * parameters of a `mysql://` URI, checked and turned into mysql2's `ssl` pool option.
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
import fs from "node:fs";
import * as mysql2 from "mysql2";
import type { SslOptions as Mysql2SslOptions } from "mysql2";

/** How much of the server's certificate a connection checks, after MySQL's `--ssl-mode`. */
export type SslMode = "disabled" | "required" | "verify-ca" | "verify-identity";

/** PEM text, a Buffer of it, or several of them. */
export type Pem = string | Buffer | (string | Buffer)[];

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
type Parsed = { off: true } | { off: false; material: Material; mode: Verifying | undefined };
type UriParam = "ssl" | "ssl-mode" | "ssl-ca";

const OFF: Parsed = { off: true };
const MODES: readonly SslMode[] = ["disabled", "required", "verify-ca", "verify-identity"];
const VERSIONS: readonly string[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
const SETTINGS: readonly string[] = [
  "ca", "cert", "key", "passphrase", "ciphers", "minVersion", "maxVersion", "rejectUnauthorized", "verifyIdentity",
];
const URI_PARAMS: readonly string[] = ["ssl", "ssl-mode", "ssl-ca"];
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;

const SETTING_RULE =
  'must be true, false, "verify-identity", "verify-ca", "required", "disabled", ' +
  'a mysql2 SSL profile name ("Amazon RDS") or an object of TLS settings';
const SETTING_HINT = "true encrypts and verifies the server's certificate and host name against Node's trusted CAs.";
const MODE_HINT =
  "verify-identity checks the certificate chain and the host name, verify-ca only the chain, " +
  "required encrypts without checking either.";
const CA_HINT =
  "Give the path of a PEM file holding the certificate of the CA that signed the server's " +
  '("-----BEGIN CERTIFICATE-----"), e.g. ?ssl-ca=/etc/ssl/certs/db-ca.pem; a relative path is ' +
  "resolved from the working directory.";

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

/**
 * Takes latchkey's TLS parameters out of a `mysql://` URI, so that mysql2 never sees them,
 * and returns them resolved as by {@link resolveSsl}. Every other part of the URI is kept
 * byte for byte; a URI without TLS parameters comes back as the same string, so
 * `result.uri !== uri` tells that it had some (even `ssl=false`).
 *
 * - `ssl=true` / `ssl=false`; also everything the `ssl` option takes: a mode
 *   (`ssl=verify-ca`), a mysql2 profile (`ssl=Amazon%20RDS`), or mysql2's JSON form
 *   (`ssl={"rejectUnauthorized":true}`), since mysql2 reads every value as JSON first.
 * - `ssl-mode=verify-identity|verify-ca|required|disabled` (case-insensitive, `_` for `-`
 *   allowed, as in MySQL's `VERIFY_IDENTITY`); implies TLS.
 * - `ssl-ca=<path>`: reads that PEM file (relative to the working directory) as the only
 *   trusted CA; implies TLS. Percent-encode a `+` in the path as `%2B` (`+` means space).
 *
 * TLS without a stated mode is `verify-identity`. Contradictions (`ssl=false&ssl-ca=...`,
 * a mode stated twice, two CAs, `ssl-mode=required` with a CA), repeated parameters, and
 * other `ssl*`/`tls*` parameters (`sslmode`, `ssl_ca`...: mysql2 would ignore them) throw.
 *
 * @throws TypeError `latchkey: the URI parameter ...`; messages never contain the URI.
 * @example
 * ```ts
 * takeSslFromUri("mysql://app:pw@db.example.com/app?ssl=true&charset=utf8mb4");
 * // { uri: "mysql://app:pw@db.example.com/app?charset=utf8mb4",
 * //   ssl: { rejectUnauthorized: true, verifyIdentity: true } }
 * takeSslFromUri("mysql://app:pw@10.0.0.5/app?ssl-ca=/etc/mysql/ca.pem&ssl-mode=verify-ca");
 * // { uri: "mysql://app:pw@10.0.0.5/app",
 * //   ssl: { ca: "-----BEGIN CERTIFICATE-----...", rejectUnauthorized: true, verifyIdentity: false } }
 * ```
 */
export function takeSslFromUri(uri: string): { uri: string; ssl: Mysql2SslOptions | undefined } {
  const parts = splitQuery(uri);
  if (parts === undefined) return { uri, ssl: undefined };
  const kept: string[] = [];
  const found: Partial<Record<UriParam, string>> = {};
  for (const piece of parts.query.split("&")) {
    const [name, value] = decodePair(piece) ?? [];
    if (name === undefined || value === undefined || !/^(ssl|tls)/i.test(name)) {
      kept.push(piece);
      continue;
    }
    if (!URI_PARAMS.includes(name)) throw unknownUriParam(name);
    const param = name as UriParam;
    if (found[param] !== undefined) {
      throw new TypeError(
        `latchkey: the URI parameter ${param} is given more than once; give it once (mysql2 would silently use the last).`,
      );
    }
    found[param] = value;
  }
  if (Object.keys(found).length === 0) return { uri, ssl: undefined };
  const ssl = fromUriParams(found);
  const query = kept.join("&");
  return { uri: parts.before + (query === "" ? "" : `?${query}`) + parts.fragment, ssl };
}

// ---- the ssl option (and the URI's ssl parameter) ----

function parseSetting(value: unknown, source: string): Parsed {
  if (value === false) return OFF;
  if (value === true) return { off: false, material: {}, mode: undefined };
  if (typeof value === "string") return parseName(value, source);
  if (isPlainObject(value)) return parseObject(value, source);
  throw new TypeError(`latchkey: ${source} ${SETTING_RULE} (got ${show(value)}). ${SETTING_HINT}`);
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
  throw new TypeError(`latchkey: ${source} ${SETTING_RULE} (got ${show(value)}). ${SETTING_HINT}`);
}

function parseObject(settings: Record<string, unknown>, source: string): Parsed {
  for (const key of Object.keys(settings)) {
    if (!SETTINGS.includes(key)) {
      throw new TypeError(
        `latchkey: ${source} has an unknown setting ${show(key)}, which mysql2 would silently ignore. ` +
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
          `(got ${show(settings.ciphers)}).`,
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
          `(got ${show(version)}).`,
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
  throw new TypeError(`latchkey: ${name} must be true or false (got ${show(value)}).`);
}

function pem(value: unknown, name: string, kind: "ca" | "cert" | "key"): Pem {
  if (!Array.isArray(value)) return pemItem(value, name, kind);
  if (value.length === 0) {
    throw new TypeError(`latchkey: ${name} must be PEM text, a Buffer, or an array of them (got an empty array).`);
  }
  return value.map((item, index) => pemItem(item, `${name}[${index}]`, kind));
}

function pemItem(value: unknown, name: string, kind: "ca" | "cert" | "key"): string | Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === "string" && PEM_BLOCK.test(value)) return value;
  if (typeof value === "string" && looksLikePath(value)) {
    const file = JSON.stringify(value);
    throw new TypeError(
      `latchkey: ${name} must be PEM text or a Buffer, not a file name (got ${file}). ` +
        `Pass the file's contents: fs.readFileSync(${file})` +
        (kind === "ca" ? `, or in a mysql:// URI write ?ssl-ca=${value}.` : "."),
    );
  }
  if (typeof value !== "string") {
    throw new TypeError(`latchkey: ${name} must be PEM text, a Buffer, or an array of them (got ${show(value)}).`);
  }
  // A key is secret even when malformed: describe it, never quote it.
  const got = kind === "key" ? `a ${value.length}-character string` : show(value);
  throw new TypeError(
    `latchkey: ${name} must be PEM text (with a "-----BEGIN ...-----" line), a Buffer, or an array of them (got ${got}).`,
  );
}

/** mysql2's CA bundle for a profile name, if it knows the name. */
function profileCa(name: string): Pem | undefined {
  // Exported by mysql2 at run time, absent from its typings.
  const { ConnectionConfig: config } = mysql2 as unknown as { ConnectionConfig?: { getSSLProfile?: (name: string) => unknown } };
  if (typeof config?.getSSLProfile !== "function") return undefined;
  let profile: unknown;
  try {
    profile = config.getSSLProfile(name);
  } catch {
    return undefined; // mysql2: "Unknown SSL profile"
  }
  // getSSLProfile indexes a plain object: "toString" or "__proto__" would find Object's members.
  const ca = (profile as { ca?: unknown } | null)?.ca;
  return typeof ca === "string" || Buffer.isBuffer(ca) || Array.isArray(ca) ? (ca as Pem) : undefined;
}

function modeOf(value: string): SslMode | undefined {
  return MODES.find((mode) => mode === normalized(value));
}

function normalized(value: string): string {
  return value.toLowerCase().replace(/_/g, "-");
}

function preferred(source: string): TypeError {
  return new TypeError(
    `latchkey: ${source} cannot be "preferred": mysql2 never falls back to an unencrypted connection. ` +
      'Use "required" to encrypt without verifying the certificate, or "verify-identity" to verify it too.',
  );
}

function toMysql2(parsed: Parsed): Mysql2SslOptions | undefined {
  if (parsed.off) return undefined;
  const mode = parsed.mode ?? "verify-identity";
  // Node accepts mixed arrays of strings and Buffers; mysql2's typings do not say so.
  return {
    ...(parsed.material as Mysql2SslOptions),
    rejectUnauthorized: mode !== "required",
    verifyIdentity: mode === "verify-identity",
  };
}

// ---- the URI parameters ----

function fromUriParams(found: Partial<Record<UriParam, string>>): Mysql2SslOptions | undefined {
  const sslSaid = said("ssl", found.ssl ?? "");
  const base = found.ssl === undefined ? undefined : parseSetting(uriValue(found.ssl), "the URI parameter ssl");
  const mode = found["ssl-mode"] === undefined ? undefined : parseMode(found["ssl-mode"]);
  const modeSaid = `ssl-mode=${mode}`;
  const caPath = found["ssl-ca"];
  if (base?.off || mode === "disabled") {
    const onSaid = [
      base?.off === false ? sslSaid : undefined,
      mode !== undefined && mode !== "disabled" ? modeSaid : undefined,
      caPath !== undefined ? "ssl-ca" : undefined,
    ].find((text) => text !== undefined);
    if (onSaid !== undefined) {
      const offSaid = base?.off ? sslSaid : modeSaid;
      throw new TypeError(`latchkey: the URI turns TLS off with ${offSaid} but also sets ${onSaid}; remove one of them.`);
    }
    return undefined;
  }
  if (mode !== undefined && base?.mode !== undefined) {
    throw new TypeError(`latchkey: the URI states the mode twice, in ${sslSaid} and in ${modeSaid}; keep only ssl-mode.`);
  }
  const material = { ...base?.material };
  if (caPath !== undefined && material.ca !== undefined) {
    throw new TypeError(`latchkey: the URI gives the CA twice, in ${sslSaid} and in ssl-ca; keep only one.`);
  }
  const verify = mode ?? base?.mode;
  if (verify === "required" && (caPath !== undefined || material.ca !== undefined)) {
    const caSaid = caPath !== undefined ? "ssl-ca" : sslSaid;
    throw new TypeError(
      `latchkey: the URI gives a CA (${caSaid}) but ${mode === undefined ? sslSaid : modeSaid} ` +
        "does not check the server's certificate, so the CA would never be used. " +
        "Use ssl-mode=verify-identity (or verify-ca) to verify the server against the CA, or drop the CA.",
    );
  }
  // Read last, so that a URI refused for any other reason reads no file.
  if (caPath !== undefined) material.ca = readCa(caPath);
  return toMysql2({ off: false, material, mode: verify });
}

/** As mysql2 reads a query value: JSON if it parses (`true`, `{...}`, `"..."`), else the text. */
function uriValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    if (!text.trimStart().startsWith("{")) return text;
    // The parser's message quotes the text, which may hold a key: say only what is wrong.
    throw new TypeError(
      "latchkey: the URI parameter ssl starts like JSON but is not valid JSON. " +
        'Write mysql2\'s form, e.g. ?ssl={"rejectUnauthorized":true} (percent-encoded if your tooling needs it: ' +
        "?ssl=%7B%22rejectUnauthorized%22%3Atrue%7D).",
    );
  }
}

function parseMode(text: string): SslMode {
  const mode = modeOf(text);
  if (mode !== undefined) return mode;
  if (normalized(text) === "preferred") throw preferred("the URI parameter ssl-mode");
  throw new TypeError(
    `latchkey: the URI parameter ssl-mode must be verify-identity, verify-ca, required or disabled (got ${show(text)}). ${MODE_HINT}`,
  );
}

function readCa(file: string): string {
  if (file === "") throw new TypeError(`latchkey: the URI parameter ssl-ca must be the path of a PEM file (got ""). ${CA_HINT}`);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new TypeError(
      `latchkey: the URI parameter ssl-ca names a file that cannot be read (got ${JSON.stringify(file)}: ${code}). ${CA_HINT}`,
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    // Never quote the contents: a key file given by mistake is a secret.
    throw new TypeError(
      `latchkey: the URI parameter ssl-ca names a file with no PEM certificate in it (got ${JSON.stringify(file)}). ${CA_HINT}`,
    );
  }
  return text;
}

function unknownUriParam(name: string): TypeError {
  const plain = name.toLowerCase().replace(/[-_]/g, "");
  const guess = /mode|accept/.test(plain)
    ? "Did you mean ssl-mode? "
    : /(ca|rootcert|cafile)$/.test(plain)
      ? "Did you mean ssl-ca? "
      : /cert|key/.test(plain)
        ? "A client certificate goes in the store's ssl option ({ cert, key }). "
        : plain === "ssl" || plain === "tls"
          ? "Did you mean ssl (lower case)? "
          : "";
  return new TypeError(
    `latchkey: the URI parameter ${show(name)} is not a TLS setting latchkey knows; mysql2 would ignore it and ` +
      `connect without the TLS it seems to ask for. ${guess}The TLS parameters are ssl, ssl-mode and ssl-ca.`,
  );
}

/**
 * The query of a URI as the WHATWG URL parser (mysql2's) finds it: after the first `?`,
 * up to the first `#`. Tabs and newlines, which that parser drops, are dropped first, so
 * that a parameter name split by one is still seen.
 */
function splitQuery(uri: string): { before: string; query: string; fragment: string } | undefined {
  // The parser also trims C0 controls and spaces at both ends.
  const clean = uri.replace(/[\t\n\r]/g, "").replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "");
  const hash = clean.indexOf("#");
  const end = hash === -1 ? clean.length : hash;
  const question = clean.indexOf("?");
  if (question === -1 || question > end) return undefined;
  return { before: clean.slice(0, question), query: clean.slice(question + 1, end), fragment: clean.slice(end) };
}

/** One `name=value` of a query, decoded exactly as URLSearchParams (mysql2's) decodes it. */
function decodePair(piece: string): [string, string] | undefined {
  // The leading "&" keeps URLSearchParams from eating a "?" that begins the piece.
  const [pair] = new URLSearchParams(`&${piece}`);
  return pair;
}

/** `name=value` for a message, without quoting what could be key material. */
function said(name: string, value: string): string {
  return /^\s*\{/.test(value) ? `${name}={…}` : `${name}=${show(value).replace(/^"|"$/g, "")}`;
}

function at(source: string, key: string): string {
  return source.startsWith("option ") ? `${source}.${key}` : `${key} in ${source}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

function looksLikePath(value: string): boolean {
  return (
    value.length < 4096 &&
    !/[\r\n]/.test(value) &&
    (/^(\/|\.{1,2}[\\/]|~[\\/]|[A-Za-z]:[\\/])/.test(value) || /\.(pem|crt|cer|key)$/i.test(value))
  );
}

/** A value for an error message: short strings quoted, anything that could be a key or a blob described. */
function show(value: unknown): string {
  if (typeof value === "string") {
    return value.length > 64 || /[\r\n]|-----BEGIN/.test(value) ? `a ${value.length}-character string` : JSON.stringify(value);
  }
  if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value === null || typeof value !== "object") return typeof value === "function" ? "a function" : String(value);
  return "an object";
}
