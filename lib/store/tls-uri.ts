/**
 * The TLS parameters of a `mysql://` URI (`ssl`, `ssl-mode`, `ssl-ca`), taken out before
 * mysql2 sees the URI and resolved as the `ssl` store option is (lib/store/tls.ts). The
 * query is split as the WHATWG URL parser (mysql2's) splits it, so that latchkey and mysql2
 * never read a different URI.
 */
import fs from "node:fs";
import type { SslOptions as Mysql2SslOptions } from "mysql2";
import { describe } from "../check";
import { modeOf, normalized, parseSetting, preferred, toMysql2, type SslMode } from "./tls";

type UriParam = "ssl" | "ssl-mode" | "ssl-ca";

const URI_PARAMS: readonly string[] = ["ssl", "ssl-mode", "ssl-ca"];
const MODE_HINT =
  "verify-identity checks the certificate chain and the host name, verify-ca only the chain, " +
  "required encrypts without checking either.";
const CA_HINT =
  "Give the path of a PEM file holding the certificate of the CA that signed the server's " +
  '("-----BEGIN CERTIFICATE-----"), e.g. ?ssl-ca=/etc/ssl/certs/db-ca.pem; a relative path is ' +
  "resolved from the working directory.";

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
    `latchkey: the URI parameter ssl-mode must be verify-identity, verify-ca, required or disabled (got ${describe(text)}). ${MODE_HINT}`,
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
    `latchkey: the URI parameter ${describe(name)} is not a TLS setting latchkey knows; mysql2 would ignore it and ` +
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
  return /^\s*\{/.test(value) ? `${name}={…}` : `${name}=${describe(value).replace(/^"|"$/g, "")}`;
}
