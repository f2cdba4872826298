/**
 * Certificate and key material of the TLS settings: PEM text or Buffers, never a file
 * name (mysql2 would take the name itself for a certificate), and mysql2's named CA
 * profiles. A key is secret even when malformed, so no message quotes one.
 */
import * as mysql2 from "mysql2";
import { describe } from "../check";

/** PEM text, a Buffer of it, or several of them. */
export type Pem = string | Buffer | (string | Buffer)[];

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;

/** Checks a `ca`, `cert` or `key` setting: PEM text, a Buffer, or a non-empty array of them. */
export function pem(value: unknown, name: string, kind: "ca" | "cert" | "key"): Pem {
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
    throw new TypeError(`latchkey: ${name} must be PEM text, a Buffer, or an array of them (got ${describe(value)}).`);
  }
  // A key is secret even when malformed: describe it, never quote it.
  const got = kind === "key" ? `a ${value.length}-character string` : describe(value);
  throw new TypeError(
    `latchkey: ${name} must be PEM text (with a "-----BEGIN ...-----" line), a Buffer, or an array of them (got ${got}).`,
  );
}

/** mysql2's CA bundle for a profile name, if it knows the name. */
export function profileCa(name: string): Pem | undefined {
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

function looksLikePath(value: string): boolean {
  return (
    value.length < 4096 &&
    !/[\r\n]/.test(value) &&
    (/^(\/|\.{1,2}[\\/]|~[\\/]|[A-Za-z]:[\\/])/.test(value) || /\.(pem|crt|cer|key)$/i.test(value))
  );
}
