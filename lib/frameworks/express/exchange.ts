import { IncomingMessage } from "node:http";
import type { Request, Response } from "express";
import type { TransferMode } from "../../http/credentials";
import type { Runtime } from "../../http/runtime";
import type { CookieAttributes, HttpRequest, HttpResponse } from "../../http/seam";
import { responseSink } from "../../http/sink";
import type { DeferringRequest } from "../../http/verify";
import { Session } from "../../session";
import type { AccessClaims } from "../../tokens/access";
import { setSession } from "./property";

/**
 * Express's request and response as the HTTP core's seam. One per request, made by
 * `sessionMiddleware()` and kept on the request, so that the guard, the error handler and
 * `res.createSession` share it (and the cookies parsed once). Express resolves what its
 * settings govern: `req.secure` and `req.ip` honour `trust proxy`, as does the forwarded host.
 */
export class ExpressExchange implements HttpRequest, HttpResponse, DeferringRequest {
  readonly method: string;
  readonly runtime: Runtime;
  readonly #req: Request;
  readonly #res: Response;
  // A verified token whose Session is built on first read of req.session (see deferSession).
  #claims: AccessClaims | undefined = undefined;
  #accessToken = "";
  #mode: TransferMode = "cookie";
  #session: Session | undefined = undefined;

  constructor(req: Request, res: Response, runtime: Runtime) {
    this.method = req.method;
    this.runtime = runtime;
    this.#req = req;
    this.#res = res;
  }

  // verifySession's fast path: keep the verified token; the prototype's getter for the
  // session property builds the Session when the app reads it, once (the same object for
  // the rest of the request). Only where the getter is what a read reaches: an own value
  // (set by an app, or by latchkey's createSession) shadows it, so the session is set at once.
  deferSession(claims: AccessClaims, accessToken: string, mode: TransferMode): boolean {
    const property = this.runtime.manager.options.sessionProperty;
    if (Object.hasOwn(this.#req, property) || !installSessionGetter(this.#req, property)) return false;
    this.#claims = claims;
    this.#accessToken = accessToken;
    this.#mode = mode;
    this.#session = undefined;
    return true;
  }

  /** The deferred session, built on the first call; `undefined` when verifySession deferred none. */
  deferredSession(): Session | undefined {
    if (this.#session === undefined && this.#claims !== undefined) {
      this.#session = Session.open(this.runtime.manager, { claims: this.#claims, accessToken: this.#accessToken }, responseSink(this.runtime, this, this, this.#mode));
    }
    return this.#session;
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

// Where latchkey defined a session getter, by property name; and, per request prototype
// met (each app's, each mounted sub-app's), the names whose getter a read from it reaches.
const defined = new WeakMap<object, Set<string>>();
const reachable = new WeakMap<object, Set<string>>();

/**
 * Makes `req[property]` reach a getter that answers the session verifySession deferred on
 * the request, built on first read. It is defined once, on Express's own request prototype
 * (the one every app's and sub-app's request prototype inherits), so the session stays
 * readable after a mounted sub-app hands the request back to its parent. Any write makes an
 * own value that shadows it, as with a plain property. `false` when a read would reach
 * another library's `property` first: latchkey then never touches it.
 */
function installSessionGetter(req: Request, property: string): boolean {
  const own = Object.getPrototypeOf(req) as object | null;
  if (own === null) return false;
  if (reachable.get(own)?.has(property)) return true;
  const holder = holderOf(own, property);
  if (holder === undefined) {
    const target = expressPrototype(own);
    defineGetter(target, property);
    defined.set(target, (defined.get(target) ?? new Set()).add(property));
  } else if (!defined.get(holder)?.has(property)) {
    return false;
  }
  reachable.set(own, (reachable.get(own) ?? new Set()).add(property));
  return true;
}

function defineGetter(target: object, property: string): void {
  Object.defineProperty(target, property, {
    configurable: true,
    enumerable: false,
    get(this: Request) {
      // The exchange of the sessionMiddleware() this request went through; another
      // instance's (with another sessionProperty) holds no session for this name.
      const exchange = findExchange(this);
      return exchange?.runtime.manager.options.sessionProperty === property ? exchange.deferredSession() : undefined;
    },
    set(this: Request, value: unknown) {
      Object.defineProperty(this, property, { value, writable: true, enumerable: true, configurable: true });
    },
  });
}

// The first object on the chain from `prototype` that has `property` as its own.
function holderOf(prototype: object, property: string): object | undefined {
  for (let at: object | null = prototype; at !== null; at = Object.getPrototypeOf(at) as object | null) {
    if (Object.hasOwn(at, property)) return at;
  }
  return undefined;
}

// Express's request prototype: the one whose own prototype is Node's IncomingMessage's
// (a request that is not one keeps its own prototype).
function expressPrototype(own: object): object {
  for (let at: object | null = own; at !== null; at = Object.getPrototypeOf(at) as object | null) {
    if (Object.getPrototypeOf(at) === IncomingMessage.prototype) return at;
  }
  return own;
}
