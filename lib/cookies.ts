import type { CookieOptions, Request, Response } from "express";
import type { ResolvedOptions } from "./options";
import type { AccessClaims } from "./tokens/access";

/**
 * How tokens travel: HttpOnly cookies, plus the `front-token` header through which the
 * frontend SDK learns the user id, expiry and payload without reading those cookies.
 */
export interface CookieNames {
  access: string;
  refresh: string;
}

const PLAIN: CookieNames = { access: "sAccessToken", refresh: "sRefreshToken" };
// Browser-enforced prefixes (RFC 6265bis §4.1.3): a __Host- cookie is Secure, Path=/ and
// host-only, so no subdomain or plain-http page can plant or overwrite it.
const PREFIXED: CookieNames = { access: "__Host-sAccessToken", refresh: "__Secure-sRefreshToken" };

export const FRONT_TOKEN_HEADER = "front-token";

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

  readAccessToken(req: Request): string | undefined {
    return cookieValue(req, this.names(req).access);
  }

  readRefreshToken(req: Request): string | undefined {
    return cookieValue(req, this.names(req).refresh);
  }

  /** Sets both token cookies and `front-token`; the cookies live as long as the session. */
  setTokens(
    req: Request,
    res: Response,
    tokens: { accessToken: string; refreshToken: string; claims: AccessClaims; sessionExpiresAt: number },
  ): void {
    const names = this.names(req);
    const expires = new Date(tokens.sessionExpiresAt);
    // The access cookie outlives the JWT so that an expired token still reaches us and
    // earns "try refresh token" rather than looking like no session at all.
    res.cookie(names.access, tokens.accessToken, { ...this.#attributes(req, "/"), expires });
    res.cookie(names.refresh, tokens.refreshToken, { ...this.#attributes(req, this.#refreshPath), expires });
    this.setFrontToken(res, tokens.claims);
  }

  /** Re-sends only the access token (after a payload change), keeping the session's cookie lifetime. */
  setAccessToken(req: Request, res: Response, accessToken: string, claims: AccessClaims, sessionExpiresAt: number): void {
    res.cookie(this.names(req).access, accessToken, { ...this.#attributes(req, "/"), expires: new Date(sessionExpiresAt) });
    this.setFrontToken(res, claims);
  }

  /** Clears both cookies with the attributes they were set with, and tells the frontend. */
  clearTokens(req: Request, res: Response): void {
    const names = this.names(req);
    res.clearCookie(names.access, this.#attributes(req, "/"));
    res.clearCookie(names.refresh, this.#attributes(req, this.#refreshPath));
    res.setHeader(FRONT_TOKEN_HEADER, "remove");
    exposeHeader(res, FRONT_TOKEN_HEADER);
  }

  setFrontToken(res: Response, claims: AccessClaims): void {
    res.setHeader(FRONT_TOKEN_HEADER, frontToken(claims));
    exposeHeader(res, FRONT_TOKEN_HEADER);
  }

  #attributes(req: Request, path: string): CookieOptions {
    const attributes: CookieOptions = {
      httpOnly: true,
      secure: this.isSecure(req),
      sameSite: this.#options.cookieSameSite,
      path,
    };
    if (this.#options.cookieDomain !== undefined) attributes.domain = this.#options.cookieDomain;
    return attributes;
  }
}

/**
 * The SDK's view of the session: standard base64 (not base64url: the SDK decodes it with
 * `atob`) of the UTF-8 JSON `{uid, ate, up}`, `ate` in milliseconds.
 */
export function frontToken(claims: AccessClaims): string {
  return Buffer.from(JSON.stringify({ uid: claims.sub, ate: claims.exp * 1000, up: claims }), "utf8").toString("base64");
}

/** Adds a header to `Access-Control-Expose-Headers` once, keeping what CORS middleware set. */
export function exposeHeader(res: Response, name: string): void {
  const current = res.getHeader("Access-Control-Expose-Headers");
  const listed = (Array.isArray(current) ? current.join(",") : String(current ?? ""))
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
  if (listed.some((item) => item.toLowerCase() === name)) return;
  res.setHeader("Access-Control-Expose-Headers", [...listed, name].join(", "));
}

// cookie-parser turns values starting with "j:" into objects; only a string is a token.
function cookieValue(req: Request, name: string): string | undefined {
  const value: unknown = (req.cookies as Record<string, unknown> | undefined)?.[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
