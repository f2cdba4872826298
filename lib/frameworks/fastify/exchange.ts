import type { FastifyReply, FastifyRequest } from "fastify";
import type { Runtime } from "../../http/runtime";
import type { CookieAttributes, HttpRequest, HttpResponse } from "../../http/seam";
import { serializeClearedCookie, serializeCookie } from "../../http/set-cookie";
import type { Session } from "../../session";

/** Where `fastifySessions()` keeps its runtime: a decoration of the Fastify instance, seen by every child context. */
export const RUNTIME = Symbol("latchkey.runtime");
/** Where a request keeps its exchange, so the guard and `reply.createSession` share one. */
export const EXCHANGE = Symbol("latchkey.exchange");

type Decorated<T> = T & { [RUNTIME]?: Runtime; [EXCHANGE]?: FastifyExchange | null };

/**
 * Fastify's request and reply as the HTTP core's seam. Everything goes through Fastify's
 * own API — `reply.header`, `reply.code`, `reply.send` — never `reply.raw`, so its hooks
 * (`onSend`, CORS plugins…) and serialization run on latchkey's answers too. Fastify
 * resolves what its `trustProxy` setting governs: `request.ip`, `request.protocol` and
 * `request.host`. Headers are written straight into the reply, so a token re-signed in the
 * route (`mergeIntoAccessTokenPayload`) reaches the response as long as it is not yet sent.
 */
export class FastifyExchange implements HttpRequest, HttpResponse {
  readonly method: string;
  readonly runtime: Runtime;
  readonly #request: FastifyRequest;
  readonly #reply: FastifyReply;

  constructor(request: FastifyRequest, reply: FastifyReply, runtime: Runtime) {
    this.method = request.method;
    this.runtime = runtime;
    this.#request = request;
    this.#reply = reply;
  }

  // request.url is the URL as received, from the site root: the endpoints and the refresh
  // cookie's Path are absolute, whatever prefix the route was registered under.
  path(): string {
    const url = this.#request.url;
    const query = url.indexOf("?");
    return query === -1 ? url : url.slice(0, query);
  }

  header(name: string): string | undefined {
    const value = this.#request.headers[name];
    if (value === undefined || typeof value === "string") return value;
    // HTTP/2 may split the Cookie header; Node joins other repeats with ", ".
    return value.join(name === "cookie" ? "; " : ", ");
  }

  // @fastify/cookie's request.cookies would lose repeated names, which the core must see
  // (anchoring, duplicates): latchkey parses the Cookie header itself.
  parsedCookies(): undefined {
    return undefined;
  }

  secure(): boolean {
    return this.#request.protocol === "https";
  }

  // request.host is X-Forwarded-Host only when trustProxy trusts the peer, else the Host header.
  forwardedHost(): string | undefined {
    return this.#request.headers["x-forwarded-host"] === undefined ? undefined : this.#request.host;
  }

  ip(): string | undefined {
    return this.#request.ip;
  }

  setSession(session: Session): void {
    (this.#request as unknown as Record<string, unknown>)[this.runtime.manager.options.sessionProperty] = session;
  }

  headersSent(): boolean {
    return this.#reply.sent || this.#reply.raw.headersSent;
  }

  getHeader(name: string): string | string[] | number | undefined {
    return this.#reply.getHeader(name);
  }

  setHeader(name: string, value: string): void {
    this.#reply.header(name, value);
  }

  // Fastify's reply.header appends for Set-Cookie and replaces any other header.
  appendHeader(name: string, value: string): void {
    const current = name.toLowerCase() === "set-cookie" ? undefined : this.#reply.getHeader(name);
    this.#reply.header(name, current === undefined ? value : [...[current].flat().map(String), value]);
  }

  setCookie(name: string, value: string, attributes: CookieAttributes): void {
    this.#reply.header("set-cookie", serializeCookie(name, value, attributes));
  }

  clearCookie(name: string, attributes: CookieAttributes): void {
    this.#reply.header("set-cookie", serializeClearedCookie(name, attributes));
  }

  sendJson(status: number, body: unknown): void {
    this.#reply.code(status).header("content-type", "application/json; charset=utf-8").send(body);
  }
}

/** The runtime of the `fastifySessions()` registered on this request's app. */
export function runtimeOf(request: FastifyRequest): Runtime {
  const runtime = (request.server as Decorated<FastifyRequest["server"]>)[RUNTIME];
  if (!runtime) {
    throw new Error(
      "latchkey: fastifySessions() is not registered on this Fastify app. Register it before your routes: " +
        "await app.register(sessions), where sessions = fastifySessions(options).",
    );
  }
  return runtime;
}

/** The request's exchange, made on first use by the guard or `reply.createSession`. */
export function exchangeOf(request: FastifyRequest, reply: FastifyReply): FastifyExchange {
  const decorated = request as Decorated<FastifyRequest>;
  return (decorated[EXCHANGE] ??= new FastifyExchange(request, reply, runtimeOf(request)));
}
