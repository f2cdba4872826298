import { createSessionOnResponse } from "../../http/create";
import { endpoints } from "../../http/endpoints";
import { verifyPolicy, type CreateSessionOptions, type VerifySessionOptions } from "../../http/options";
import { sendRouteError } from "../../http/respond";
import { createRuntime } from "../../http/runtime";
import { NEEDS_IO, verifyNow, verifyRequest } from "../../http/verify";
import { createManager, managementOf } from "../../management";
import type { SessionMiddlewareOptions } from "../../options/contract";
import type { Session } from "../../session";
import type { SessionManagement } from "../../types/management";
import { fetchRequest, HeadersResponse } from "./exchange";

/**
 * Who sent the request, which a WHATWG `Request` does not say.
 *
 * @example
 * ```ts
 * const { headers } = await sessions.createSession(c.req.raw, userId, { ip: getConnInfo(c).remote.address });
 * ```
 */
export interface ClientAddress {
  /**
   * The client's IP, for the device list (`listSessions`) and the events: your server's
   * (`getConnInfo(c).remote.address` in Hono, `server.requestIP(request)` in Bun,
   * `info.remoteAddr` in Deno), or a header your own proxy sets. Omitted: recorded as unknown.
   */
  ip?: string;
}

/**
 * Options of {@link FetchSessions.getSession}: the guard's options, the client's IP, and where a re-signed token goes.
 *
 * @example
 * ```ts
 * const headers = new Headers();
 * const session = await sessions.getSession(request, { headers, checkDatabase: true });
 * return Response.json({ userId: session.userId }, { headers });
 * ```
 */
export interface FetchGetSessionOptions extends VerifySessionOptions, ClientAddress {
  /**
   * The headers you will send the response with. When the access token is re-signed —
   * a stale claim refetched during `getSession`, or `session.mergeIntoAccessTokenPayload`
   * later in the route — its cookie (or `st-access-token`) and `front-token` are written
   * here. Without it the session works all the same, but the frontend keeps its old token
   * until the next refresh (latchkey warns once).
   */
  headers?: Headers;
}

/**
 * Options of {@link FetchSessions.createSession}: `createSession`'s options and the client's IP.
 *
 * @example
 * ```ts
 * const { session, headers } = await sessions.createSession(request, userId, { rememberMe: false, ip });
 * ```
 */
export interface FetchCreateSessionOptions extends CreateSessionOptions, ClientAddress {}

/**
 * What `fetchSessions()` returns: latchkey on WHATWG `Request`/`Response`, with the management API.
 *
 * @example
 * ```ts
 * const sessions: FetchSessions = fetchSessions();
 * await sessions.ready();
 * const answered = await sessions.handle(request);
 * ```
 */
export interface FetchSessions extends SessionManagement {
  /**
   * Answers latchkey's endpoints under `apiBasePath` — `POST …/session/refresh`,
   * `POST …/signout`, `GET …/jwt/jwks.json` — and resolves to `undefined` for any other
   * request, for your own routes to answer. Rejects only for a fault that is not a session
   * error (a failing hook), for your framework's error handling.
   */
  handle(request: Request, options?: ClientAddress): Promise<Response | undefined>;
  /**
   * Verifies the request's session: resolves to the `Session`, to `undefined` for an
   * anonymous request when `sessionRequired` is `false`, or rejects with a `SessionError`
   * that {@link FetchSessions.errorResponse} turns into latchkey's answer.
   */
  getSession(request: Request, options?: FetchGetSessionOptions & { sessionRequired?: true }): Promise<Session>;
  getSession(request: Request, options: FetchGetSessionOptions): Promise<Session | undefined>;
  /**
   * Creates a session for `userId` (a login): resolves to the session and the `Headers` to
   * send with your response — its `Set-Cookie` lines (or `st-*` token headers) and
   * `front-token`. Rejects with a `SessionError` (`STORE_UNAVAILABLE`, or
   * `CROSS_ORIGIN_REQUEST` for a cross-site login), having issued nothing.
   */
  createSession(request: Request, userId: string, options?: FetchCreateSessionOptions): Promise<{ session: Session; headers: Headers }>;
  /**
   * latchkey's answer to a `SessionError` — a refused `getSession`, or one your route threw —
   * as a `Response`: its status and JSON body, with the request's tokens cleared when they
   * can never work again, and whatever `getSession` wrote for this request (a token re-signed
   * before a claim refused it). `undefined` for anything else, for you to rethrow.
   */
  errorResponse(error: unknown, request: Request, options?: ClientAddress): Response | undefined;
}

/**
 * latchkey for fetch-style servers — Hono, Bun, Deno, Next.js route handlers, anything that
 * takes a WHATWG `Request` and returns a `Response`. Options are `sessionMiddleware`'s.
 *
 * @example
 * ```ts
 * const sessions = fetchSessions();
 * export async function handler(request: Request): Promise<Response> {
 *   const answered = await sessions.handle(request);
 *   if (answered) return answered;
 *   try {
 *     const headers = new Headers();
 *     const session = await sessions.getSession(request, { headers });
 *     return Response.json({ userId: session.userId }, { headers });
 *   } catch (error) {
 *     const refusal = sessions.errorResponse(error, request);
 *     if (refusal) return refusal;
 *     throw error;
 *   }
 * }
 * ```
 */
export function fetchSessions(options?: SessionMiddlewareOptions): FetchSessions {
  if (options instanceof Request) {
    throw new TypeError("latchkey: fetchSessions is a factory. Call it once, const sessions = fetchSessions(), and use sessions.handle(request).");
  }
  const manager = createManager(options);
  const runtime = createRuntime(manager);
  const routes = endpoints(manager.options.apiBasePath);
  // What getSession wrote for a request (a token re-signed before a claim refused it, say):
  // errorResponse answers with it, as Express's error handler answers on a response that has it.
  const written = new WeakMap<Request, Headers>();

  async function handle(request: Request, options?: ClientAddress): Promise<Response | undefined> {
    const endpoint = routes.get(`${request.method} ${new URL(request.url).pathname}`);
    if (!endpoint) return undefined;
    const res = new HeadersResponse(new Headers());
    await endpoint(runtime, fetchRequest(request, options?.ip), res);
    return res.toResponse();
  }

  async function getSession(request: Request, options: FetchGetSessionOptions = {}): Promise<Session | undefined> {
    const { headers, ip, ...guard } = options;
    if (headers !== undefined && !(headers instanceof Headers)) {
      throw new TypeError("latchkey: getSession option headers must be a Headers (new Headers()) that you send with your Response.");
    }
    const policy = verifyPolicy(guard, "getSession");
    const req = fetchRequest(request, ip);
    const res = headers ? new HeadersResponse(headers) : new HeadersResponse(new Headers(), manager.diagnostics);
    written.set(request, res.headers);
    // No I/O needed (keys in memory, nothing to fetch): decided without further awaits.
    const now = verifyNow(runtime, req, res, policy);
    return now === NEEDS_IO ? verifyRequest(runtime, req, res, policy) : now;
  }

  async function createSession(request: Request, userId: string, options: FetchCreateSessionOptions = {}) {
    const { ip, ...create } = options;
    const headers = new Headers();
    const session = await createSessionOnResponse(runtime, fetchRequest(request, ip), new HeadersResponse(headers), userId, create);
    return { session, headers };
  }

  function errorResponse(error: unknown, request: Request, options?: ClientAddress): Response | undefined {
    const res = new HeadersResponse(new Headers(written.get(request)));
    return sendRouteError(runtime, fetchRequest(request, options?.ip), res, error, false) ? res.toResponse() : undefined;
  }

  return { ...managementOf(manager), handle, getSession: getSession as FetchSessions["getSession"], createSession, errorResponse };
}
