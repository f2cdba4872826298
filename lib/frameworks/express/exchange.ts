import type { Request, Response } from "express";
import type { Runtime } from "../../http/runtime";
import type { CookieAttributes, HttpRequest, HttpResponse } from "../../http/seam";
import type { Session } from "../../session";
import { setSession } from "./property";

/**
 * Express's request and response as the HTTP core's seam. One per request, made by
 * `sessionMiddleware()` and kept on the request, so that the guard, the error handler and
 * `res.createSession` share it (and the cookies parsed once). Express resolves what its
 * settings govern: `req.secure` and `req.ip` honour `trust proxy`, as does the forwarded host.
 */
export class ExpressExchange implements HttpRequest, HttpResponse {
  readonly method: string;
  readonly runtime: Runtime;
  readonly #req: Request;
  readonly #res: Response;

  constructor(req: Request, res: Response, runtime: Runtime) {
    this.method = req.method;
    this.runtime = runtime;
    this.#req = req;
    this.#res = res;
  }

  // The endpoints live at apiBasePath from the site root whatever the mount point, because
  // the refresh cookie's Path names that absolute path.
  path(): string {
    const url = this.#req.originalUrl ?? this.#req.url;
    const query = url.indexOf("?");
    return query === -1 ? url : url.slice(0, query);
  }

  header(name: string): string | undefined {
    const value = this.#req.headers[name];
    return typeof value === "string" ? value : undefined;
  }

  parsedCookies(): Record<string, unknown> | undefined {
    const cookies = this.#req.cookies as Record<string, unknown> | undefined | null;
    return cookies === undefined || cookies === null ? undefined : cookies;
  }

  secure(): boolean {
    return this.#req.secure;
  }

  forwardedHost(): string | undefined {
    const forwarded = this.#req.headers["x-forwarded-host"];
    if (typeof forwarded !== "string" || !this.#req.app.get("trust proxy")) return undefined;
    return forwarded.split(",")[0]?.trim();
  }

  ip(): string | undefined {
    return this.#req.ip;
  }

  setSession(session: Session): void {
    setSession(this.#req, this.runtime.manager.options.sessionProperty, session);
  }

  headersSent(): boolean {
    return this.#res.headersSent;
  }

  getHeader(name: string): string | string[] | number | undefined {
    return this.#res.getHeader(name);
  }

  setHeader(name: string, value: string): void {
    this.#res.setHeader(name, value);
  }

  appendHeader(name: string, value: string): void {
    this.#res.append(name, value);
  }

  setCookie(name: string, value: string, attributes: CookieAttributes): void {
    this.#res.cookie(name, value, attributes);
  }

  clearCookie(name: string, attributes: CookieAttributes): void {
    this.#res.clearCookie(name, attributes);
  }

  sendJson(status: number, body: unknown): void {
    this.#res.status(status).json(body);
  }
}

const EXCHANGE = Symbol("latchkey.exchange");

type WithExchange = Request & { [EXCHANGE]?: ExpressExchange };

export function attachExchange(req: Request, res: Response, runtime: Runtime): ExpressExchange {
  const exchange = new ExpressExchange(req, res, runtime);
  (req as WithExchange)[EXCHANGE] = exchange;
  return exchange;
}

/** The exchange `sessionMiddleware()` made for this request, or `undefined` if it never saw the request. */
export function findExchange(req: Request): ExpressExchange | undefined {
  return (req as WithExchange)[EXCHANGE];
}

/** The exchange of the `sessionMiddleware()` this request passed through. */
export function exchangeOf(req: Request): ExpressExchange {
  const exchange = (req as WithExchange)[EXCHANGE];
  if (!exchange) {
    throw new Error(
      "latchkey: this request did not pass through sessionMiddleware(). Add app.use(sessionMiddleware()) before your routes " +
        "(at the application root: app.use(sessions), not app.use(\"/api\", sessions)).",
    );
  }
  return exchange;
}
