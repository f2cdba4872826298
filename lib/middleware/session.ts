import type { NextFunction, Request, RequestHandler, Response } from "express";
import { TokenTransfer } from "../cookies";
import { readAccessToken, requestedMode } from "../credentials";
import { csrfFailure, reportCsrfFailure } from "../csrf";
import type { Duration } from "../duration";
import { SessionError } from "../errors";
import { resolveLogger } from "../logger";
import { SessionManager } from "../manager";
import { resolveOptions, type SessionMiddlewareOptions } from "../options";
import { attachRuntime, runtimeOf, type Runtime } from "../runtime";
import { Session } from "../session";
import { revokeSession } from "../sessions/admin";
import { createSession, reauthenticate } from "../sessions/create";
import { identify } from "../sessions/verification";
import { selectStore } from "../store/select";
import type { AccessTokenPayload } from "../types/payload";
import { checkUserId } from "../validate";
import { endpoints } from "./endpoints";
import { managementOf, type SessionManagement } from "./management";
import { claimProperty, setSession } from "./property";
import { clientOf } from "./respond";
import { responseSink } from "./sink";
import { isRequest } from "./verify";

/** Options of `res.createSession`. */
export interface CreateSessionOptions {
  /** Custom claims for the access token, readable by the frontend; at most 2 KB as JSON. */
  accessTokenPayload?: AccessTokenPayload & Record<string, unknown>;
  /** Server-side data kept with the session, never sent to the client; at most 64 KB as JSON. */
  sessionData?: Record<string, unknown>;
  /**
   * `false` ("remember me" unticked): cookies that end with the browser session, and an idle
   * lifetime of at most 12 hours (unless `sessionTtl.idle` says otherwise).
   * @default true
   */
  rememberMe?: boolean;
  /** This session's own idle and absolute lifetimes, instead of `refreshTokenTtl` and `absoluteTtl`. */
  sessionTtl?: { idle?: Duration; absolute?: Duration };
  /**
   * Run the CSRF origin check before setting cookies (login CSRF: a cross-site form logging
   * the victim in to the attacker's account). Set `false` only on a route with its own defence.
   * @default true
   */
  csrfCheck?: boolean;
  /**
   * When the request carries a live session of the same user, renew its `authTime` in place
   * (a step-up re-authentication for `requireFresh`) instead of starting a new session.
   * @default false
   */
  reauthenticate?: boolean;
}

const CREATE_OPTIONS = ["accessTokenPayload", "sessionData", "rememberMe", "sessionTtl", "csrfCheck", "reauthenticate"];

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
  const runtime: Runtime = { manager, transfer: new TokenTransfer(manager.options) };
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
    attachRuntime(req, runtime);
    res.createSession = createSessionOnResponse;
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
 * The management API without Express, for scripts, jobs and servers that are not
 * Express (websockets, RPC): the same operations as the middleware carries, on the same
 * store, configured the same way (`LATCHKEY_DATABASE_URL`, `LATCHKEY_TABLE_PREFIX`).
 *
 * @example
 * ```ts
 * const sessions = sessionManager();
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

/**
 * `res.createSession`: one function shared by every response (no closure per request),
 * finding its middleware through the request. The session a request carries is ended
 * first (ASVS 5.0 7.2.4) — or, with `reauthenticate`, renewed in place — and the new tokens
 * travel the way that credential came; a request without one chooses by `st-auth-mode`.
 */
async function createSessionOnResponse(this: Response, userId: string, options: CreateSessionOptions = {}): Promise<Session> {
  const res = this;
  const req = res.req;
  if (res.headersSent) throw new Error("latchkey: createSession must run before the response is sent.");
  checkUserId(userId);
  checkCreateOptions(options);
  const runtime = runtimeOf(req);
  const { manager, transfer } = runtime;
  const property = manager.options.sessionProperty;
  claimProperty(req, property); // fails fast on a clash, before anything is written
  const carried = readAccessToken(req, transfer.names(req));
  const mode = carried?.mode ?? requestedMode(req);
  if (mode === "cookie" && options.csrfCheck !== false) {
    const failure = csrfFailure(req, manager.options);
    if (failure !== undefined) {
      reportCsrfFailure(manager.diagnostics, req, failure);
      throw new SessionError("CROSS_ORIGIN_REQUEST", `login refused: ${failure}`);
    }
  }
  if (!manager.isReady) await manager.ready();
  const client = clientOf(req);
  const previous = carried ? identify(manager, carried.token) : undefined;
  if (previous && options.reauthenticate && previous.sub === userId) {
    const renewed = await reauthenticate(manager, previous.sid, userId, options);
    if (renewed) {
      transfer.setTokens(req, res, mode, renewed, renewed.record);
      return place(runtime, req, res, mode, { claims: renewed.claims, accessToken: renewed.accessToken, refreshToken: renewed.refreshToken });
    }
  }
  if (previous) await revokeSession(manager, previous.sid, "re-login", client);
  const issued = await createSession(manager, userId, options, client);
  transfer.setTokens(req, res, mode, issued, issued.record);
  return place(runtime, req, res, mode, { claims: issued.claims, accessToken: issued.accessToken, refreshToken: issued.refreshToken });
}

function place(runtime: Runtime, req: Request, res: Response, mode: "cookie" | "header", tokens: ConstructorParameters<typeof Session>[1]): Session {
  const session = new Session(runtime.manager, tokens, responseSink(runtime, req, res, mode));
  setSession(req, runtime.manager.options.sessionProperty, session);
  return session;
}

function checkCreateOptions(options: unknown): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TypeError("latchkey: createSession options must be an object { accessTokenPayload?, sessionData?, rememberMe?, sessionTtl?, csrfCheck?, reauthenticate? }.");
  }
  for (const name of Object.keys(options)) {
    if (!CREATE_OPTIONS.includes(name)) throw new TypeError(`latchkey: unknown createSession option ${name}. Known: ${CREATE_OPTIONS.join(", ")}.`);
  }
  for (const name of ["csrfCheck", "reauthenticate"] as const) {
    const value = (options as Record<string, unknown>)[name];
    if (value !== undefined && typeof value !== "boolean") throw new TypeError(`latchkey: createSession option ${name} must be true or false (got ${typeof value}).`);
  }
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

// The endpoints live at apiBasePath from the site root whatever the mount point, because
// the refresh cookie's Path names that absolute path.
function pathOf(req: Request): string {
  const url = req.originalUrl ?? req.url;
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}
