import type { Lifecycle, Plugin, Request, ResponseObject, ResponseToolkit, Server } from "@hapi/hapi";
import { SessionError } from "../../errors";
import { createSessionOnResponse } from "../../http/create";
import { endpoints } from "../../http/endpoints";
import type { CreateSessionOptions } from "../../http/options";
import { sendRouteError } from "../../http/respond";
import { createRuntime, type Runtime } from "../../http/runtime";
import { createManager, managementOf } from "../../management";
import type { SessionMiddlewareOptions } from "../../options/contract";
import type { Session } from "../../session";
import type { SessionManagement } from "../../types/management";
import { copyHeaders, copyHeadersToBoom, exchangeOf, findExchange, type BoomOutput } from "./exchange";
import { latchkeyScheme, SCHEME } from "./scheme";
import "./types";

/**
 * What `hapiSessions()` returns: the plugin to register, and the management API.
 *
 * @example
 * ```ts
 * const sessions: HapiSessions = hapiSessions();
 * await server.register(sessions.plugin);
 * await sessions.revokeAllSessionsForUser("user-42");
 * ```
 */
export type HapiSessions = { plugin: Plugin<void> } & SessionManagement;

/**
 * Creates latchkey for Hapi. Register `plugin` (named "latchkey") once: it serves
 * `POST {apiBasePath}/session/refresh`, `POST {apiBasePath}/signout` and
 * `GET {apiBasePath}/jwt/jwks.json`, gives every route `h.createSession(userId, options?)`,
 * and registers the auth scheme `"latchkey"`, whose strategies take `verifySession`'s options.
 * The returned object also carries the management API (`ready`, `close`, `revokeSession`…).
 *
 * @example
 * ```ts
 * const sessions = hapiSessions();
 * await server.register(sessions.plugin);
 * server.auth.strategy("session", "latchkey");
 * server.route({ method: "POST", path: "/login", handler: async (request, h) => {
 *   await h.createSession(await checkPassword(request.payload));
 *   return { message: "User logged in!" };
 * } });
 * server.route({ method: "GET", path: "/api/me", options: { auth: "session" },
 *   handler: (request) => ({ userId: request.auth.credentials.session!.userId }) });
 * ```
 */
export function hapiSessions(options?: SessionMiddlewareOptions): HapiSessions {
  const manager = createManager(options);
  const runtime = createRuntime(manager);
  const plugin: Plugin<void> = {
    name: "latchkey",
    register(server: Server) {
      registerEndpoints(server, runtime);
      server.decorate("toolkit", "createSession", function createSession(this: ResponseToolkit, userId: string, createOptions?: CreateSessionOptions): Promise<Session> {
        const exchange = exchangeOf(this.request);
        return createSessionOnResponse(runtime, exchange.req, exchange.res, userId, createOptions);
      });
      server.auth.scheme(SCHEME, latchkeyScheme(runtime));
      server.ext("onPreResponse", (request, h) => onPreResponse(runtime, request, h));
    },
  };
  return { plugin, ...managementOf(manager) };
}

// The endpoints take no auth (a default strategy must not guard the refresh) and leave the
// payload unparsed: the SDK's refresh may send `content-type: application/json` with no body.
function registerEndpoints(server: Server, runtime: Runtime): void {
  for (const [route, endpoint] of endpoints(runtime.manager.options.apiBasePath)) {
    const [method, path] = route.split(" ") as ["GET" | "POST", string];
    server.route({
      method,
      path,
      options: { auth: false, ...(method === "POST" ? { payload: { parse: false, output: "data" as const } } : {}) },
      handler: async (request, h) => {
        const exchange = exchangeOf(request);
        await endpoint(runtime, exchange.req, exchange.res);
        return h.response(exchange.res.body as object).code(exchange.res.status ?? 200);
      },
    });
  }
}

/**
 * Puts what latchkey set (cookies, `front-token`…) on the response the route returned, a
 * Boom error's too. A `SessionError` thrown in a route becomes latchkey's answer — its
 * status and `{ message, code }` body, the carried tokens cleared when they can never work
 * again — instead of Hapi's 500.
 */
function onPreResponse(runtime: Runtime, request: Request, h: ResponseToolkit): Lifecycle.ReturnValue {
  const response = request.response as ResponseObject | (Error & BoomOutput & { isBoom: true });
  if (isBoom(response) && response instanceof SessionError) {
    const exchange = exchangeOf(request);
    if (sendRouteError(runtime, exchange.req, exchange.res, response, true)) {
      const answer = h.response(exchange.res.body as object).code(exchange.res.status ?? response.status);
      copyHeaders(exchange.res, answer);
      return answer;
    }
  }
  const exchange = findExchange(request);
  if (exchange) {
    if (isBoom(response)) copyHeadersToBoom(exchange.res, response);
    else copyHeaders(exchange.res, response);
  }
  return h.continue;
}

function isBoom(response: unknown): response is Error & BoomOutput & { isBoom: true } {
  return typeof response === "object" && response !== null && (response as { isBoom?: unknown }).isBoom === true;
}
