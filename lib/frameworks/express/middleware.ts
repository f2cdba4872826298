import type { NextFunction, Request, RequestHandler, Response } from "express";
import { createSessionOnResponse } from "../../http/create";
import { endpoints } from "../../http/endpoints";
import type { CreateSessionOptions } from "../../http/options";
import { createRuntime } from "../../http/runtime";
import { createManager, managementOf } from "../../management";
import type { SessionMiddlewareOptions } from "../../options/contract";
import type { Session } from "../../session";
import type { SessionManagement } from "../../types/management";
import { attachExchange, exchangeOf } from "./exchange";
import { claimProperty } from "./property";
import { isRequest } from "./verify";

/** What `sessionMiddleware()` returns: an Express middleware that also manages sessions. */
export type SessionMiddleware = RequestHandler & SessionManagement;

/**
 * Creates the session middleware: it gives every response `res.createSession`, and
 * serves `POST {apiBasePath}/session/refresh`, `POST {apiBasePath}/signout` and
 * `GET {apiBasePath}/jwt/jwks.json`. The returned function also carries the management
 * API (`revokeSession`, `listSessions`, `ready`, `close`...). Mount it at the application
 * root: its endpoints and the refresh cookie's path are absolute.
 *
 * @example
 * ```ts
 * const sessions = sessionMiddleware();
 * app.use(express.json());
 * app.use(sessions);
 * app.post("/login", async (req, res) => {
 *   await res.createSession(await checkPassword(req.body));
 *   res.json({ message: "User logged in!" });
 * });
 * await sessions.ready(); // the store is reachable, keys loaded: start listening
 * process.on("SIGTERM", () => server.close(() => sessions.close()));
 * ```
 */
export function sessionMiddleware(options?: SessionMiddlewareOptions): SessionMiddleware {
  if (isRequest(options)) {
    throw new TypeError("latchkey: sessionMiddleware is a factory. Write app.use(sessionMiddleware()), not app.use(sessionMiddleware).");
  }
  const manager = createManager(options);
  const runtime = createRuntime(manager);
  const basePath = manager.options.apiBasePath;
  const routes = endpoints(basePath);
  let mountWarned = false;

  const middleware = function latchkeySession(req: Request, res: Response, next: NextFunction): void {
    if (req.baseUrl !== "" && !within(basePath, req.baseUrl)) {
      const error = mountedUnder(req.baseUrl, basePath);
      if (!mountWarned) manager.log.error(error.message);
      mountWarned = true;
      return next(error);
    }
    const exchange = attachExchange(req, res, runtime);
    res.createSession = createSessionOnExpressResponse;
    if ((req.method === "POST" || req.method === "GET") && (req.originalUrl ?? req.url).startsWith(basePath)) {
      const endpoint = routes.get(`${req.method} ${exchange.path()}`);
      if (endpoint) {
        endpoint(runtime, exchange, exchange).catch(next);
        return;
      }
    }
    next();
  };
  return Object.assign(middleware, managementOf(manager));
}

/**
 * `res.createSession`: one function shared by every response (no closure per request),
 * finding its middleware through the request. A clash over the session property fails
 * before anything is written.
 */
async function createSessionOnExpressResponse(this: Response, userId: string, options?: CreateSessionOptions): Promise<Session> {
  const exchange = exchangeOf(this.req);
  claimProperty(this.req, exchange.runtime.manager.options.sessionProperty);
  return createSessionOnResponse(exchange.runtime, exchange, exchange, userId, options);
}

// A middleware mounted under a path (app.use("/api", sessions)) sees only requests under
// it, so its absolute endpoints (and the refresh cookie's path) would answer a silent 404.
// Mounting under a prefix of apiBasePath is fine: its endpoints are still reached.
function within(basePath: string, mountPath: string): boolean {
  return basePath === mountPath || basePath.startsWith(`${mountPath}/`);
}

function mountedUnder(mountPath: string, basePath: string): TypeError {
  return new TypeError(
    `latchkey: sessionMiddleware() is mounted under "${mountPath}", so its endpoints under "${basePath}" are never reached ` +
      `and every refresh would be a 404. Mount it at the application root: app.use(sessions), not app.use("${mountPath}", sessions) ` +
      `(or set apiBasePath: "${mountPath}${basePath}").`,
  );
}
