import type { NextFunction, Request, RequestHandler, Response } from "express";
import { TokenTransfer } from "../cookies";
import { SessionManager } from "../manager";
import { resolveOptions, type SessionMiddlewareOptions } from "../options";
import { resolveLogger } from "../logger";
import { attachRuntime, type Runtime } from "../runtime";
import { Session } from "../session";
import { selectStore } from "../store/select";
import type { AccessTokenPayload } from "../types/payload";
import { endpoints } from "./endpoints";
import { isRequest } from "./verify";

/** Options of `res.createSession`. */
export interface CreateSessionOptions {
  /** Custom claims for the access token, readable by the frontend; at most 2 KB as JSON. */
  accessTokenPayload?: AccessTokenPayload & Record<string, unknown>;
  /** Server-side data kept with the session, never sent to the client; at most 64 KB as JSON. */
  sessionData?: Record<string, unknown>;
}

/** The session-management operations, on the middleware and on {@link sessionManager}. */
export type SessionManagement = Pick<
  SessionManager,
  | "revokeSession"
  | "revokeAllSessionsForUser"
  | "revokeOtherSessions"
  | "getAllSessionHandlesForUser"
  | "listSessions"
  | "getSessionInformation"
  | "updateSessionData"
  | "mergeIntoAccessTokenPayload"
  | "cleanup"
  | "rotateKeys"
  | "close"
>;

/** What `sessionMiddleware()` returns: an Express middleware that also manages sessions. */
export type SessionMiddleware = RequestHandler & SessionManagement;

/**
 * Creates the session middleware: it gives every response `res.createSession`, and
 * serves `POST {apiBasePath}/session/refresh`, `POST {apiBasePath}/signout` and
 * `GET {apiBasePath}/jwt/jwks.json`. The returned function also carries the management
 * API (`revokeSession`, `listSessions`, ...).
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
 * ```
 */
export function sessionMiddleware(options?: SessionMiddlewareOptions): SessionMiddleware {
  if (isRequest(options)) {
    throw new TypeError(
      "latchkey: sessionMiddleware is a factory. Write app.use(sessionMiddleware()), not app.use(sessionMiddleware).",
    );
  }
  const manager = createManager(options);
  const runtime: Runtime = { manager, transfer: new TokenTransfer(manager.options) };
  const basePath = manager.options.apiBasePath;
  const routes = endpoints(basePath);

  const middleware = function latchkeySession(req: Request, res: Response, next: NextFunction): void {
    attachRuntime(req, runtime);
    res.createSession = (userId, input) => createSession(runtime, req, res, userId, input);
    if ((req.method === "POST" || req.method === "GET") && (req.originalUrl ?? req.url).startsWith(basePath)) {
      const endpoint = routes.get(`${req.method} ${pathOf(req)}`);
      if (endpoint) {
        endpoint(runtime, req, res, next).catch(next);
        return;
      }
    }
    next();
  };
  return Object.assign(middleware, managementOf(manager));
}

/**
 * The management API without Express, for scripts and jobs: the same operations as
 * the middleware carries, on the same store.
 *
 * @example
 * ```ts
 * const sessions = sessionManager({ store: process.env.LATCHKEY_DATABASE_URL });
 * await sessions.revokeAllSessionsForUser("user-42");
 * await sessions.close();
 * ```
 */
export function sessionManager(options?: SessionMiddlewareOptions): SessionManagement {
  return managementOf(createManager(options));
}

function createManager(options: SessionMiddlewareOptions | undefined): SessionManager {
  const resolved = resolveOptions(options);
  return new SessionManager(resolved, selectStore(resolved.store, resolveLogger(resolved.logger)));
}

function managementOf(manager: SessionManager): SessionManagement {
  return {
    revokeSession: (handle) => manager.revokeSession(handle, "admin"),
    revokeAllSessionsForUser: (userId) => manager.revokeAllSessionsForUser(userId),
    revokeOtherSessions: (handle) => manager.revokeOtherSessions(handle),
    getAllSessionHandlesForUser: (userId) => manager.getAllSessionHandlesForUser(userId),
    listSessions: (userId, options) => manager.listSessions(userId, options),
    getSessionInformation: (handle) => manager.getSessionInformation(handle),
    updateSessionData: (handle, data) => manager.updateSessionData(handle, data),
    mergeIntoAccessTokenPayload: (handle, update) => manager.mergeIntoAccessTokenPayload(handle, update),
    cleanup: (options) => manager.cleanup(options),
    rotateKeys: () => manager.rotateKeys(),
    close: () => manager.close(),
  };
}

async function createSession(
  runtime: Runtime,
  req: Request,
  res: Response,
  userId: string,
  input: CreateSessionOptions = {},
): Promise<Session> {
  if (res.headersSent) throw new Error("latchkey: createSession must run before the response is sent.");
  const issued = await runtime.manager.createSession(userId, input, {
    ip: req.ip ?? null,
    userAgent: req.get("user-agent") ?? null,
  });
  const mode = runtime.transfer.responseMode(req);
  runtime.transfer.setTokens(req, res, mode, { ...issued, sessionExpiresAt: issued.record.expiresAt });
  const session = new Session(runtime, issued.claims, req, res, mode);
  req.session = session;
  return session;
}

// The endpoints live at apiBasePath from the site root whatever the mount point, because
// the refresh cookie's Path names that absolute path.
function pathOf(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
