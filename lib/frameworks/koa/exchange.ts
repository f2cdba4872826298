import type { Context } from "koa";
import type { Runtime } from "../../http/runtime";
import type { CookieAttributes, HttpRequest, HttpResponse } from "../../http/seam";
import { serializeClearedCookie, serializeCookie } from "../../http/set-cookie";
import type { Session } from "../../session";

/**
 * Koa's `ctx` as the HTTP core's seam. Everything is written through Koa's own API —
 * `ctx.set`, `ctx.append`, `ctx.status`, `ctx.body` — never `ctx.res`, so Koa sends the
 * response when the middleware chain has settled, with whatever the other middleware added.
 * Cookies go out as the core's serialized `Set-Cookie` lines: Koa's `ctx.cookies` would
 * re-encode them and add attributes of its own. Koa resolves what `app.proxy` governs:
 * `ctx.ip`, `ctx.secure` and `ctx.host`. Until Koa responds, `ctx.set` still lands, so a
 * token re-signed in the route (`mergeIntoAccessTokenPayload`) reaches the response even
 * after `ctx.body` is set.
 */
export class KoaExchange implements HttpRequest, HttpResponse {
  readonly method: string;
  readonly runtime: Runtime;
  readonly #ctx: Context;

  constructor(ctx: Context, runtime: Runtime) {
    this.method = ctx.method;
    this.runtime = runtime;
    this.#ctx = ctx;
  }

  // ctx.originalUrl, not ctx.path: koa-mount rewrites ctx.path, and the endpoints and the
  // refresh cookie's Path are absolute, from the site root.
  path(): string {
    const url = this.#ctx.originalUrl;
    const query = url.indexOf("?");
    return query === -1 ? url : url.slice(0, query);
  }

  header(name: string): string | undefined {
    const value = this.#ctx.headers[name];
    if (value === undefined || typeof value === "string") return value;
    // HTTP/2 may split the Cookie header; Node joins other repeats with ", ".
    return value.join(name === "cookie" ? "; " : ", ");
  }

  parsedCookies(): undefined {
    return undefined;
  }

  secure(): boolean {
    return this.#ctx.secure;
  }

  // ctx.host is the first X-Forwarded-Host only when app.proxy is set, else the Host header.
  forwardedHost(): string | undefined {
    return this.#ctx.headers["x-forwarded-host"] === undefined ? undefined : this.#ctx.host;
  }

  ip(): string | undefined {
    return this.#ctx.ip || undefined;
  }

  setSession(session: Session): void {
    this.#ctx.state.session = session;
  }

  headersSent(): boolean {
    return this.#ctx.headerSent;
  }

  getHeader(name: string): string | string[] | number | undefined {
    return this.#ctx.response.get(name) as string | string[] | number | undefined;
  }

  setHeader(name: string, value: string): void {
    this.#ctx.set(name, value);
  }

  appendHeader(name: string, value: string): void {
    this.#ctx.append(name, value);
  }

  setCookie(name: string, value: string, attributes: CookieAttributes): void {
    this.#ctx.append("Set-Cookie", serializeCookie(name, value, attributes));
  }

  clearCookie(name: string, attributes: CookieAttributes): void {
    this.#ctx.append("Set-Cookie", serializeClearedCookie(name, attributes));
  }

  // Koa answers a plain object as application/json; charset=utf-8.
  sendJson(status: number, body: unknown): void {
    this.#ctx.status = status;
    this.#ctx.body = body;
  }
}

const EXCHANGE = Symbol("latchkey.exchange");

type WithExchange = Context & { [EXCHANGE]?: KoaExchange };

export function attachExchange(ctx: Context, runtime: Runtime): KoaExchange {
  const exchange = new KoaExchange(ctx, runtime);
  (ctx as WithExchange)[EXCHANGE] = exchange;
  return exchange;
}

/** The exchange of the `koaSessions()` this request passed through. */
export function exchangeOf(ctx: Context): KoaExchange {
  const exchange = (ctx as WithExchange)[EXCHANGE];
  if (!exchange) {
    throw new Error(
      "latchkey: this request did not pass through koaSessions(). Add app.use(sessions), where sessions = koaSessions(options), " +
        "before your routes and their verifySession().",
    );
  }
  return exchange;
}
