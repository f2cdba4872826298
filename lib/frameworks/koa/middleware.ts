import type { Context, Middleware, Next } from "koa";
import { createSessionOnResponse } from "../../http/create";
import { endpoints } from "../../http/endpoints";
import type { CreateSessionOptions } from "../../http/options";
import { sendRouteError } from "../../http/respond";
import { createRuntime } from "../../http/runtime";
import { createManager, managementOf } from "../../management";
import type { SessionMiddlewareOptions } from "../../options/contract";
import type { Session } from "../../session";
import type { SessionManagement } from "../../types/management";
import { attachExchange, exchangeOf } from "./exchange";

/**
 * What `koaSessions()` returns: a Koa middleware that also manages sessions.
 *
 * @example
 * ```ts
 * const sessions: KoaSessions = koaSessions();
 * app.use(sessions);
 * await sessions.revokeAllSessionsForUser("user-42");
 * ```
 */
export type KoaSessions = Middleware & SessionManagement;

/**
 * Creates latchkey's Koa middleware. Mounted with `app.use` before your routes, it serves
 * `POST {apiBasePath}/session/refresh`, `POST {apiBasePath}/signout` and
 * `GET {apiBasePath}/jwt/jwks.json` (answering them itself, without calling `next`), gives
 * every context `ctx.createSession(userId, options)`, and answers a `SessionError` thrown
 * downstream (a route's `createSession` while the store is down, a failed `assertClaims`)
 * with latchkey's status and body; anything else is rethrown to your error handling. The
 * value also carries the management API (`revokeSession`, `listSessions`, `ready`, `close`…).
 *
 * @example
 * ```ts
 * const sessions = koaSessions();
 * app.use(sessions);
 * app.use(async (ctx, next) => {
 *   if (ctx.method !== "POST" || ctx.path !== "/login") return next();
 *   await ctx.createSession(await checkPassword(ctx.request));
 *   ctx.body = { message: "User logged in!" };
 * });
 * await sessions.ready(); // the store is reachable, keys loaded: start listening
 * ```
 */
export function koaSessions(options?: SessionMiddlewareOptions): KoaSessions {
  if (typeof options === "object" && options !== null && "app" in options && "req" in options) {
    throw new TypeError("latchkey: koaSessions is a factory. Write app.use(koaSessions()), not app.use(koaSessions).");
  }
  const manager = createManager(options);
  const runtime = createRuntime(manager);
  const basePath = manager.options.apiBasePath;
  const routes = endpoints(basePath);

  const middleware = async function latchkeySessions(ctx: Context, next: Next): Promise<void> {
    const exchange = attachExchange(ctx, runtime);
    ctx.createSession = createSessionOnContext;
    if ((ctx.method === "POST" || ctx.method === "GET") && ctx.originalUrl.startsWith(basePath)) {
      const endpoint = routes.get(`${ctx.method} ${exchange.path()}`);
      // Answered here, through ctx.status / ctx.body, and the chain settles: the endpoint's
      // promise is this middleware's (a non-session failure rejects, for Koa's error handling).
      if (endpoint) return endpoint(runtime, exchange, exchange);
    }
    try {
      await next();
    } catch (error) {
      if (!sendRouteError(runtime, exchange, exchange, error, true)) throw error;
    }
  };
  return Object.assign(middleware, managementOf(manager));
}

/** `ctx.createSession`: one function shared by every context (no closure per request), finding its middleware through `ctx`. */
function createSessionOnContext(this: Context, userId: string, options?: CreateSessionOptions): Promise<Session> {
  const exchange = exchangeOf(this);
  return createSessionOnResponse(exchange.runtime, exchange, exchange, userId, options);
}
