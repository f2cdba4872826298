import cookieParser from "cookie-parser";
import type { CookieOptions, Request, Response } from "express";
import type { ResolvedOptions } from "./options";
import type { AccessClaims } from "./tokens/access";

/**
 * How tokens travel (DESIGN §2). Cookie mode: HttpOnly cookies. Header mode (a request
 * carrying `st-auth-mode: header`, for mobile apps and third-party-cookie-less
 * browsers): `st-access-token` / `st-refresh-token` response headers, and
 * `Authorization: Bearer` on the way back. Both send `front-token`, through which the
 * frontend SDK learns the user id, expiry and payload.
 */
export type TransferMode = "cookie" | "header";

export interface CookieNames {
  access: string;
  refresh: string;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  claims: AccessClaims;
  sessionExpiresAt: number;
}

const PLAIN: CookieNames = { access: "sAccessToken", refresh: "sRefreshToken" };
// Browser-enforced prefixes (RFC 6265bis §4.1.3): a __Host- cookie is Secure, Path=/ and
// host-only, so no subdomain or plain-http page can plant or overwrite it.
const PREFIXED: CookieNames = { access: "__Host-sAccessToken", refresh: "__Secure-sRefreshToken" };

export const FRONT_TOKEN_HEADER = "front-token";
const ACCESS_HEADER = "st-access-token";
const REFRESH_HEADER = "st-refresh-token";
const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;

export class TokenTransfer {
  readonly #options: ResolvedOptions;
  readonly #production: boolean;
  readonly #refreshPath: string;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#production = process.env.NODE_ENV === "production";
    this.#refreshPath = `${options.apiBasePath}/session/refresh`;
  }

  /** Whether this request's cookies are `Secure`: always in production and over HTTPS (as `trust proxy` reports it). */
  isSecure(req: Request): boolean {
    const setting = this.#options.cookieSecure;
    return setting === "auto" ? this.#production || req.secure : setting;
  }

  names(req: Request): CookieNames {
    return this.isSecure(req) && this.#options.cookieDomain === undefined ? PREFIXED : PLAIN;
  }

  /** The mode a response uses: what the request asked for, else how its token came, else cookies. */
  responseMode(req: Request, tokenCameBy?: TransferMode): TransferMode {
    const asked = req.headers["st-auth-mode"];
    if (asked === "header" || asked === "cookie") return asked;
    return tokenCameBy ?? "cookie";
  }

  /**
   * The request's access token. A bearer token wins over a cookie: a cross-site page
   * cannot make a browser send an `Authorization` header, so it needs no CSRF check.
   * `duplicated` flags two access cookies (left behind by a `cookieDomain` change).
   */
  readAccessToken(req: Request): { token: string; mode: TransferMode; duplicated: boolean } | undefined {
    const bearer = bearerToken(req);
    if (bearer) return { token: bearer, mode: "header", duplicated: false };
    const name = this.names(req).access;
    const token = cookieValue(req, name);
    if (!token) return undefined;
    return { token, mode: "cookie", duplicated: countCookies(req, name) > 1 };
  }

  /** Every refresh token the request carries, the bearer one first, then each cookie of that name. */
  readRefreshTokens(req: Request): { tokens: string[]; mode: TransferMode } {
    const bearer = bearerToken(req);
    if (bearer) return { tokens: [bearer], mode: "header" };
    const name = this.names(req).refresh;
    const first = cookieValue(req, name);
    if (!first) return { tokens: [], mode: "cookie" };
    return { tokens: countCookies(req, name) > 1 ? allCookieValues(req, name) : [first], mode: "cookie" };
  }

  /** Sends both tokens and `front-token` in the given mode; cookies live as long as the session. */
  setTokens(req: Request, res: Response, mode: TransferMode, tokens: IssuedTokens): void {
    if (mode === "header") {
      res.setHeader(ACCESS_HEADER, tokens.accessToken);
      res.setHeader(REFRESH_HEADER, tokens.refreshToken);
      exposeHeaders(res, [FRONT_TOKEN_HEADER, ACCESS_HEADER, REFRESH_HEADER]);
    } else {
      const names = this.names(req);
      const expires = new Date(tokens.sessionExpiresAt);
      // The access cookie outlives the JWT so that an expired token still reaches us and
      // earns "try refresh token" rather than looking like no session at all.
      res.cookie(names.access, tokens.accessToken, { ...this.#attributes(req, "/"), expires });
      res.cookie(names.refresh, tokens.refreshToken, { ...this.#attributes(req, this.#refreshPath), expires });
      this.#clearStaleDomains(req, res);
    }
    this.setFrontToken(res, tokens.claims);
  }

  /** Re-sends only the access token (after a payload change), keeping the session's cookie lifetime. */
  setAccessToken(req: Request, res: Response, mode: TransferMode, accessToken: string, claims: AccessClaims, sessionExpiresAt: number): void {
    if (mode === "header") {
      res.setHeader(ACCESS_HEADER, accessToken);
      exposeHeaders(res, [FRONT_TOKEN_HEADER, ACCESS_HEADER]);
    } else {
      res.cookie(this.names(req).access, accessToken, { ...this.#attributes(req, "/"), expires: new Date(sessionExpiresAt) });
    }
    this.setFrontToken(res, claims);
  }

  /**
   * Clears the tokens and tells the frontend (`front-token: remove`). Header mode sends the
   * token headers empty; cookies are cleared with the attributes they were set with, and
   * always when the request carried any, whatever the mode.
   */
  clearTokens(req: Request, res: Response, mode: TransferMode): void {
    if (mode === "header") {
      res.setHeader(ACCESS_HEADER, "");
      res.setHeader(REFRESH_HEADER, "");
      exposeHeaders(res, [FRONT_TOKEN_HEADER, ACCESS_HEADER, REFRESH_HEADER]);
    }
    if (mode === "cookie" || this.#hasTokenCookie(req)) {
      const names = this.names(req);
      res.clearCookie(names.access, this.#attributes(req, "/"));
      res.clearCookie(names.refresh, this.#attributes(req, this.#refreshPath));
      this.#clearStaleDomains(req, res);
    }
    res.setHeader(FRONT_TOKEN_HEADER, "remove");
    exposeHeaders(res, [FRONT_TOKEN_HEADER]);
    noStore(res);
  }

  setFrontToken(res: Response, claims: AccessClaims): void {
    res.setHeader(FRONT_TOKEN_HEADER, frontToken(claims));
    exposeHeaders(res, [FRONT_TOKEN_HEADER]);
    noStore(res);
  }

  #attributes(req: Request, path: string): CookieOptions {
    return this.#scoped(req, path, this.#options.cookieDomain);
  }

  #scoped(req: Request, path: string, domain: string | undefined): CookieOptions {
    const attributes: CookieOptions = { httpOnly: true, secure: this.isSecure(req), sameSite: this.#options.cookieSameSite, path };
    if (domain !== undefined) attributes.domain = domain;
    return attributes;
  }

  // After a cookieDomain change the browser holds a second pair of cookies under the old
  // scope, sent alongside the new ones. When a request shows duplicates, expire the
  // other scopes (host-only, olderCookieDomain) so the next request carries one pair.
  #clearStaleDomains(req: Request, res: Response): void {
    const names = this.names(req);
    if (countCookies(req, names.access) < 2 && countCookies(req, names.refresh) < 2) return;
    const stale = new Set<string | undefined>([undefined, this.#options.olderCookieDomain]);
    stale.delete(this.#options.cookieDomain);
    for (const domain of stale) {
      // The same name with another scope: Set-Cookie lines do not replace each other.
      res.append("Set-Cookie", expiredCookie(names.access, this.#scoped(req, "/", domain)));
      res.append("Set-Cookie", expiredCookie(names.refresh, this.#scoped(req, this.#refreshPath, domain)));
    }
  }

  #hasTokenCookie(req: Request): boolean {
    const names = this.names(req);
    return cookieValue(req, names.access) !== undefined || cookieValue(req, names.refresh) !== undefined;
  }
}

/**
 * The SDK's view of the session: standard base64 (not base64url: the SDK decodes it with
 * `atob`) of the UTF-8 JSON `{uid, ate, up}`, `ate` in milliseconds.
 */
export function frontToken(claims: AccessClaims): string {
  return Buffer.from(JSON.stringify({ uid: claims.sub, ate: claims.exp * 1000, up: claims }), "utf8").toString("base64");
}

/** Adds headers to `Access-Control-Expose-Headers` once each, keeping what CORS middleware set. */
export function exposeHeaders(res: Response, names: string[]): void {
  const current = res.getHeader("Access-Control-Expose-Headers");
  const listed = (Array.isArray(current) ? current.join(",") : String(current ?? ""))
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  const missing = names.filter((name) => !listed.some((item) => item.toLowerCase() === name));
  if (missing.length > 0) res.setHeader("Access-Control-Expose-Headers", [...listed, ...missing].join(", "));
}

// A response that carries or clears tokens must never be served from a cache (ASVS 8.2.1).
function noStore(res: Response): void {
  res.setHeader("Cache-Control", "no-store");
}

function bearerToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined || header.length > 8192) return undefined;
  return BEARER.exec(header)?.[1];
}

const parseCookies = cookieParser();

// The app's cookie-parser result when it mounted one; otherwise parsed here, lazily, so
// requests that never look at a session (static files, public routes) pay nothing.
// cookie-parser turns values starting with "j:" into objects; only a string is a token.
function cookieValue(req: Request, name: string): string | undefined {
  if (req.cookies === undefined) parseCookies(req, undefined as never, noop);
  const value: unknown = (req.cookies as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function noop(): void {}

function countCookies(req: Request, name: string): number {
  const header = req.headers.cookie;
  if (header === undefined) return 0;
  let count = 0;
  for (let at = header.indexOf(`${name}=`); at !== -1; at = header.indexOf(`${name}=`, at + name.length)) {
    if (at === 0 || header[at - 1] === " " || header[at - 1] === ";") count++;
  }
  return count;
}

function allCookieValues(req: Request, name: string): string[] {
  const values: string[] = [];
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      if (value) values.push(value);
    }
  }
  return values;
}

function expiredCookie(name: string, attributes: CookieOptions): string {
  const parts = [`${name}=`, `Path=${attributes.path ?? "/"}`, "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "HttpOnly"];
  if (attributes.domain) parts.push(`Domain=${attributes.domain}`);
  if (attributes.secure) parts.push("Secure");
  if (typeof attributes.sameSite === "string") parts.push(`SameSite=${attributes.sameSite[0]!.toUpperCase()}${attributes.sameSite.slice(1)}`);
  return parts.join("; ");
}
