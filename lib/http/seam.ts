import type { Session } from "../session";

/**
 * The seam between latchkey's HTTP core and a web framework. An adapter
 * (`lib/frameworks/<name>/`) implements these two interfaces over its framework's request
 * and response, and nothing else; everything the protocol decides — which token counts,
 * the CSRF check, what a refusal clears — is decided here, once, for every framework.
 *
 * Methods rather than fields where a framework computes the value (the client IP under a
 * proxy setting, whether the request came over TLS): the hot path asks only for what it uses.
 */
export interface HttpRequest {
  /** The method, upper case. */
  readonly method: string;
  /** The path from the site root, without the query string. */
  path(): string;
  /** A header's value by lower-case name; a repeated header joined as the framework joins it. */
  header(name: string): string | undefined;
  /**
   * The cookies as the app's own cookie parser left them (Express's `req.cookies` with
   * cookie-parser mounted), or `undefined`: latchkey then parses the Cookie header itself.
   */
  parsedCookies(): Record<string, unknown> | undefined;
  /** Whether the request came over TLS, as the framework's proxy settings report it. */
  secure(): boolean;
  /** The `X-Forwarded-Host` the app trusts (its proxy settings say so), else `undefined`. */
  forwardedHost(): string | undefined;
  /** The client's IP as the framework's proxy settings resolve it. */
  ip(): string | undefined;
  /** Puts the request's session where the framework keeps per-request state (`req.session`, `ctx.state`…). */
  setSession(session: Session): void;
}

/** Attributes of a token cookie, as the core sets or clears it. */
export interface CookieAttributes {
  httpOnly: true;
  secure: boolean;
  sameSite: "lax" | "strict" | "none";
  path: string;
  domain?: string;
  /** Absent for a browser-session cookie. */
  expires?: Date;
}

export interface HttpResponse {
  /** Whether the status line and headers have gone out (nothing can be added then). */
  headersSent(): boolean;
  getHeader(name: string): string | string[] | number | undefined;
  setHeader(name: string, value: string): void;
  /** Adds one more line of a header that may repeat (`Set-Cookie`). */
  appendHeader(name: string, value: string): void;
  setCookie(name: string, value: string, attributes: CookieAttributes): void;
  /** Expires a cookie set with `attributes`. */
  clearCookie(name: string, attributes: CookieAttributes): void;
  /** Sends `body` as JSON with `status`, ending the response. */
  sendJson(status: number, body: unknown): void;
}
