import { createSessionOnResponse } from "../../http/create";
import { endpoints } from "../../http/endpoints";
import { verifyPolicy, type CreateSessionOptions, type VerifySessionOptions } from "../../http/options";
import { sendRouteError } from "../../http/respond";
import { createRuntime } from "../../http/runtime";
import { NEEDS_IO, refuseRequest, verifyNow, verifyRequest } from "../../http/verify";
import { createManager, managementOf } from "../../management";
import type { SessionMiddlewareOptions } from "../../options/contract";
import type { Session } from "../../session";
import type { SessionManagement } from "../../types/management";
import { NextExchange } from "./exchange";
import type { ApiHandler, ApiRequest, ApiResponse, OptionalSessionApiRequest, SessionApiRequest } from "./types";

/**
 * `nextSessions` options: `sessionMiddleware`'s, with `apiBasePath` defaulting to where Next serves the catch-all route.
 *
 * @example
 * ```ts
 * export const sessions = nextSessions({ trustProxy: true, accessTokenTtl: "15m" });
 * ```
 */
export interface NextSessionsOptions extends SessionMiddlewareOptions {
  /**
   * Where `pages/api/auth/[...path].js` lives: the frontend SDK's `apiBasePath` too.
   * @default "/api/auth"
   */
  apiBasePath?: string;
  /**
   * Believe the `X-Forwarded-For`, `-Proto` and `-Host` headers (their first entry) for the
   * client's IP, whether the request came over TLS, and the CSRF check's own host. Set it only
   * behind a proxy that overwrites them (Vercel, a load balancer terminating TLS): anyone can
   * send them, and Next itself adds them from whatever the client sent. Without it the socket
   * says: its address, and TLS only when Next itself terminates it.
   * @default false
   */
  trustProxy?: boolean;
}

/**
 * What `nextSessions()` returns: the pages router's endpoints, guard and login, with the management API.
 *
 * @example
 * ```ts
 * const sessions: NextSessions = nextSessions();
 * export default sessions.withSession(async (req, res) => res.json(await sessions.listSessions(req.session.userId)));
 * ```
 */
export interface NextSessions extends SessionManagement {
  /**
   * The catch-all API route under `apiBasePath` (`pages/api/auth/[...path].js`): refresh,
   * sign-out and JWKS; 204 for a CORS preflight, 404 for any other path there.
   */
  apiHandler: ApiHandler;
  /**
   * Guards an API route: verifies the session and sets `req.session`, or answers the refusal
   * (401, or 403 for a failed claim) without calling `handler`. A `SessionError` the handler
   * throws is answered with latchkey's status and body, never Next's 500. A CORS preflight
   * (`OPTIONS`) is answered 204 without calling `handler`: it carries no credentials, and its
   * CORS headers come from `next.config.js` `headers()` or middleware, which set them first.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  withSession<Data = any>(handler: (req: SessionApiRequest, res: ApiResponse<Data>) => unknown, options?: VerifySessionOptions & { sessionRequired?: true }): ApiHandler<Data>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  withSession<Data = any>(handler: (req: OptionalSessionApiRequest, res: ApiResponse<Data>) => unknown, options: VerifySessionOptions): ApiHandler<Data>;
  /**
   * Creates a session for `userId` in a login route: one row in the store, then the token
   * cookies (or headers) and `front-token` on `res`. Call it before answering. Rejects with a
   * `SessionError` (`STORE_UNAVAILABLE`, or `CROSS_ORIGIN_REQUEST` for a cross-site login),
   * having set nothing; {@link NextSessions.sendSessionError} answers it.
   */
  createSession(req: ApiRequest, res: ApiResponse, userId: string, options?: CreateSessionOptions): Promise<Session>;
  /**
   * Answers a `SessionError` caught in a route that `withSession` does not wrap (a login) with
   * latchkey's status and body, clearing the request's tokens when they can never work again.
   * `false`, writing nothing, for anything else (or once the response is sent).
   */
  sendSessionError(error: unknown, req: ApiRequest, res: ApiResponse): boolean;
}

/**
 * latchkey for the Next.js pages router. (App Router route handlers take WHATWG requests: use
 * `latchkey/fetch`.) Build it once in a module of your own and import it where needed.
 *
 * @example
 * ```ts
 * // lib/sessions.ts
 * export const sessions = nextSessions(); // endpoints under /api/auth
 * // pages/api/auth/[...path].ts
 * export default sessions.apiHandler;
 * // pages/api/me.ts
 * export default sessions.withSession((req, res) => res.json({ userId: req.session.userId }));
 * ```
 */
export function nextSessions(options?: NextSessionsOptions): NextSessions {
  if (typeof options === "function") {
    throw new TypeError("latchkey: nextSessions is a factory. Call it once, const sessions = nextSessions(), and export sessions.apiHandler.");
  }
  const { trustProxy = false, ...rest } = options ?? {};
  if (typeof trustProxy !== "boolean") throw new TypeError(`latchkey: option trustProxy must be true or false (got ${typeof trustProxy}).`);
  const manager = createManager({ ...rest, apiBasePath: rest.apiBasePath ?? "/api/auth" });
  const runtime = createRuntime(manager);
  const basePath = manager.options.apiBasePath;
  const routes = endpoints(basePath);
  const exchange = (req: ApiRequest, res: ApiResponse) => new NextExchange(req, res, runtime, trustProxy);

  async function apiHandler(req: ApiRequest, res: ApiResponse): Promise<void> {
    const ex = exchange(req, res);
    if (ex.method === "OPTIONS") return preflight(res);
    const endpoint = routes.get(`${ex.method} ${ex.path()}`);
    if (endpoint) return endpoint(runtime, ex, ex);
    if (!ex.path().startsWith(`${basePath}/`)) {
      manager.diagnostics.warnOnce(
        "next:base",
        `apiHandler answered ${ex.path()}, outside apiBasePath "${basePath}": the catch-all route's folder and apiBasePath must agree ` +
          `(pages/api/auth/[...path] is nextSessions({ apiBasePath: "/api/auth" })), else every refresh is a 404. (Warned once.)`,
      );
    }
    ex.sendJson(404, { message: "not found" });
  }

  function withSession(handler: (req: SessionApiRequest, res: ApiResponse) => unknown, options?: VerifySessionOptions): ApiHandler {
    if (typeof handler !== "function") throw new TypeError("latchkey: withSession(handler, options?) needs an API route handler function.");
    const policy = verifyPolicy(options, "withSession");
    return async function latchkeyWithSession(req, res) {
      const ex = exchange(req, res);
      if (ex.method === "OPTIONS") return preflight(res);
      try {
        // Fast path: keys in memory, nothing to fetch, no further await.
        if (verifyNow(runtime, ex, ex, policy) === NEEDS_IO) await verifyRequest(runtime, ex, ex, policy);
      } catch (error) {
        if (refuseRequest(runtime, ex, ex, error)) return;
        throw error;
      }
      try {
        await handler(req as SessionApiRequest, res);
      } catch (error) {
        if (!sendRouteError(runtime, ex, ex, error, false)) throw error;
      }
    };
  }

  async function createSession(req: ApiRequest, res: ApiResponse, userId: string, options?: CreateSessionOptions): Promise<Session> {
    const ex = exchange(req, res);
    return createSessionOnResponse(runtime, ex, ex, userId, options);
  }

  function sendSessionError(error: unknown, req: ApiRequest, res: ApiResponse): boolean {
    const ex = exchange(req, res);
    return sendRouteError(runtime, ex, ex, error, false);
  }

  return { ...managementOf(manager), apiHandler, withSession: withSession as NextSessions["withSession"], createSession, sendSessionError };
}

// A CORS preflight never reaches latchkey's checks nor the route: it carries no credentials,
// and answering it 401 (or with the route's 500 for want of a session) would fail the real
// request before it is sent.
function preflight(res: ApiResponse): void {
  res.statusCode = 204;
  res.end();
}
