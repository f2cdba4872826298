import type { ResolvedOptions } from "../options/resolve";
import type { CookieLifetime } from "../session";
import type { AccessClaims } from "../tokens/access";
import { frontToken } from "../tokens/front";
import { allCookieValues, carriesTokenCookie, type CookieNames, type TransferMode } from "./credentials";
import type { CookieAttributes, HttpRequest, HttpResponse } from "./seam";

/**
 * Writing tokens to a response (DESIGN §2). Cookie mode: HttpOnly cookies, and never a
 * token in a header (unless `exposeAccessTokenToFrontendInCookieBasedAuth`, for the
 * access token only). Header mode: `st-access-token` / `st-refresh-token`. Both send
 * `front-token`, through which the frontend SDK learns the user id, expiry and payload.
 * Which mode a response uses is the caller's to say: the way the presented credential
 * came (see `credentials.ts`).
 */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  claims: AccessClaims;
}

const PLAIN: CookieNames = { access: "sAccessToken", refresh: "sRefreshToken" };
// Browser-enforced prefixes (RFC 6265bis §4.1.3): a __Host- cookie is Secure, Path=/ and
// host-only, so no subdomain or plain-http page can plant or overwrite it.
const PREFIXED: CookieNames = { access: "__Host-sAccessToken", refresh: "__Secure-sRefreshToken" };

export const FRONT_TOKEN_HEADER = "front-token";
const ACCESS_HEADER = "st-access-token";
const REFRESH_HEADER = "st-refresh-token";
// The lists exposeHeaders is given, built once (with their joined form) rather than per response.
const FRONT_TOKEN_ONLY = exposeList([FRONT_TOKEN_HEADER]);
const ACCESS_TOKEN_HEADERS = exposeList([FRONT_TOKEN_HEADER, ACCESS_HEADER]);
const ALL_TOKEN_HEADERS = exposeList([FRONT_TOKEN_HEADER, ACCESS_HEADER, REFRESH_HEADER]);

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
  isSecure(req: HttpRequest): boolean {
    const setting = this.#options.cookieSecure;
    return setting === "auto" ? this.#production || req.secure() : setting;
  }

  names(req: HttpRequest): CookieNames {
    return this.isSecure(req) && this.#options.cookieDomain === undefined ? PREFIXED : PLAIN;
  }

  /** Sends both tokens and `front-token` in the given mode. */
  setTokens(req: HttpRequest, res: HttpResponse, mode: TransferMode, tokens: IssuedTokens, lifetime: CookieLifetime): void {
    if (mode === "header") {
      res.setHeader(ACCESS_HEADER, tokens.accessToken);
      res.setHeader(REFRESH_HEADER, tokens.refreshToken);
      exposeHeaders(res, ALL_TOKEN_HEADERS);
    } else {
      const names = this.names(req);
      // The access cookie outlives the JWT so that an expired token still reaches us and
      // earns "try refresh token" rather than looking like no session at all.
      res.setCookie(names.access, tokens.accessToken, this.#lifetime(this.#attributes(req, "/"), lifetime));
      res.setCookie(names.refresh, tokens.refreshToken, this.#lifetime(this.#attributes(req, this.#refreshPath), lifetime));
      this.#clearStaleDomains(req, res);
      this.#exposeAccessToken(res, tokens.accessToken);
    }
    this.setFrontToken(res, tokens.claims);
  }

  /** Re-sends only the access token (a payload change, a refetched claim), keeping the cookie's lifetime. */
  setAccessToken(req: HttpRequest, res: HttpResponse, mode: TransferMode, accessToken: string, claims: AccessClaims, lifetime: CookieLifetime): void {
    if (mode === "header") {
      res.setHeader(ACCESS_HEADER, accessToken);
      exposeHeaders(res, ACCESS_TOKEN_HEADERS);
    } else {
      res.setCookie(this.names(req).access, accessToken, this.#lifetime(this.#attributes(req, "/"), lifetime));
      this.#exposeAccessToken(res, accessToken);
    }
    this.setFrontToken(res, claims);
  }

  /**
   * Clears the tokens and tells the frontend (`front-token: remove`). Header mode sends the
   * token headers empty; cookies are cleared with the attributes they were set with, and
   * always when the request carried any, whatever the mode.
   * `keepCookies`: a refusal of a header-borne token leaves the cookies be (they are another
   * credential, which that refusal says nothing about).
   */
  clearTokens(req: HttpRequest, res: HttpResponse, mode: TransferMode, keepCookies = false): void {
    if (mode === "header" || this.#options.exposeAccessToken) {
      res.setHeader(ACCESS_HEADER, "");
      if (mode === "header") res.setHeader(REFRESH_HEADER, "");
      exposeHeaders(res, mode === "header" ? ALL_TOKEN_HEADERS : ACCESS_TOKEN_HEADERS);
    }
    const names = this.names(req);
    if (!keepCookies && (mode === "cookie" || carriesTokenCookie(req, names))) {
      res.clearCookie(names.access, this.#attributes(req, "/"));
      res.clearCookie(names.refresh, this.#attributes(req, this.#refreshPath));
      this.#clearStaleDomains(req, res);
    }
    res.setHeader(FRONT_TOKEN_HEADER, "remove");
    exposeHeaders(res, FRONT_TOKEN_ONLY);
    noStore(res);
  }

  setFrontToken(res: HttpResponse, claims: AccessClaims): void {
    res.setHeader(FRONT_TOKEN_HEADER, frontToken(claims));
    exposeHeaders(res, FRONT_TOKEN_ONLY);
    noStore(res);
  }

  // Opt-in: the SDK's getAccessToken() reads this header in cookie mode. Never the refresh token.
  #exposeAccessToken(res: HttpResponse, accessToken: string): void {
    if (!this.#options.exposeAccessToken) return;
    res.setHeader(ACCESS_HEADER, accessToken);
    exposeHeaders(res, ACCESS_TOKEN_HEADERS);
  }

  // A "remember me: no" session gets browser-session cookies (no Expires); the others
  // live as long as the session's idle expiry.
  #lifetime(attributes: CookieAttributes, lifetime: CookieLifetime): CookieAttributes {
    return lifetime.persistent ? { ...attributes, expires: new Date(lifetime.expiresAt) } : attributes;
  }

  #attributes(req: HttpRequest, path: string): CookieAttributes {
    return this.#scoped(req, path, this.#options.cookieDomain);
  }

  #scoped(req: HttpRequest, path: string, domain: string | undefined): CookieAttributes {
    const attributes: CookieAttributes = { httpOnly: true, secure: this.isSecure(req), sameSite: this.#options.cookieSameSite, path };
    if (domain !== undefined) attributes.domain = domain;
    return attributes;
  }

  // After a cookieDomain change the browser holds a second pair of cookies under the old
  // scope, sent alongside the new ones. When a request shows duplicates, expire the
  // other scopes (host-only, olderCookieDomain) so the next request carries one pair.
  #clearStaleDomains(req: HttpRequest, res: HttpResponse): void {
    // No Cookie header (a first login): nothing can be duplicated, nothing to parse.
    if (req.header("cookie") === undefined) return;
    const names = this.names(req);
    if (allCookieValues(req, names.access).length < 2 && allCookieValues(req, names.refresh).length < 2) return;
    const stale = new Set<string | undefined>([undefined, this.#options.olderCookieDomain]);
    stale.delete(this.#options.cookieDomain);
    for (const domain of stale) {
      // The same name with another scope: Set-Cookie lines do not replace each other.
      res.appendHeader("Set-Cookie", expiredCookie(names.access, this.#scoped(req, "/", domain)));
      res.appendHeader("Set-Cookie", expiredCookie(names.refresh, this.#scoped(req, this.#refreshPath, domain)));
    }
  }
}

/** Adds headers to `Access-Control-Expose-Headers` once each, keeping what CORS middleware set. */
export function exposeHeaders(res: HttpResponse, names: readonly string[]): void {
  const current = res.getHeader("Access-Control-Expose-Headers");
  if (current === undefined) {
    res.setHeader("Access-Control-Expose-Headers", (names as ExposeList).joined ?? names.join(", "));
    return;
  }
  const listed = (Array.isArray(current) ? current.join(",") : String(current))
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  const missing = names.filter((name) => !listed.some((item) => item.toLowerCase() === name));
  if (missing.length > 0) res.setHeader("Access-Control-Expose-Headers", [...listed, ...missing].join(", "));
}

type ExposeList = readonly string[] & { joined?: string };

function exposeList(names: string[]): ExposeList {
  return Object.freeze(Object.assign(names, { joined: names.join(", ") }));
}

// A response that carries or clears tokens must never be served from a cache (ASVS 8.2.1).
function noStore(res: HttpResponse): void {
  res.setHeader("Cache-Control", "no-store");
}

function expiredCookie(name: string, attributes: CookieAttributes): string {
  const parts = [`${name}=`, `Path=${attributes.path}`, "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "HttpOnly"];
  if (attributes.domain) parts.push(`Domain=${attributes.domain}`);
  if (attributes.secure) parts.push("Secure");
  parts.push(`SameSite=${attributes.sameSite[0]!.toUpperCase()}${attributes.sameSite.slice(1)}`);
  return parts.join("; ");
}
