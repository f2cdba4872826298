import type { FastifyInstance, FastifyPluginAsync, FastifyReply, HTTPMethods, RouteOptions } from "fastify";
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
import { EXCHANGE, exchangeOf, FastifyExchange, RUNTIME } from "./exchange";

/**
 * What `fastifySessions()` returns: a Fastify plugin that also manages sessions.
 *
 * @example
 * ```ts
 * const sessions: FastifySessions = fastifySessions();
 * await app.register(sessions);
 * await sessions.revokeAllSessionsForUser("user-42");
 * ```
 */
export type FastifySessions = FastifyPluginAsync & SessionManagement;

/**
 * Creates latchkey's Fastify plugin. Registered (before your routes), it serves
 * `POST {apiBasePath}/session/refresh`, `POST {apiBasePath}/signout` and
 * `GET {apiBasePath}/jwt/jwks.json`, gives every reply `reply.createSession(userId, options)`
 * and every request `request.session` (`null` until `verifySession()` or `createSession`
 * sets it), and answers a `SessionError` thrown by any route registered after it with
 * latchkey's status and body. It is not encapsulated (like a plugin wrapped in
 * fastify-plugin): its decorations reach every route of the app. The value also carries the
 * management API (`revokeSession`, `listSessions`, `ready`, `close`…); `app.close()` closes
 * it too.
 *
 * @example
 * ```ts
 * const sessions = fastifySessions();
 * await app.register(sessions);
 * app.post("/login", async (request, reply) => {
 *   await reply.createSession(await checkPassword(request.body));
 *   return { message: "User logged in!" };
 * });
 * await sessions.ready(); // the store is reachable, keys loaded: start listening
 * ```
 */
export function fastifySessions(options?: SessionMiddlewareOptions): FastifySessions {
  if (typeof options === "object" && options !== null && "decorateReply" in options) {
    // Fastify called the factory as the plugin (app.register(fastifySessions)). A throw here
    // is lost inside avvio and the app hangs until its plugin timeout; a rejected promise
    // fails the registration with this message.
    const misuse = new TypeError("latchkey: fastifySessions is a factory. Write app.register(fastifySessions()), not app.register(fastifySessions).");
    return Promise.reject(misuse) as unknown as FastifySessions;
  }
  const manager = createManager(options);
  const runtime = createRuntime(manager);
  const management = managementOf(manager);
  // app.close() and sessions.close() may both run (a shutdown handler calling both): close once.
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= management.close());

  const plugin = async function latchkey(fastify: FastifyInstance): Promise<void> {
    const property = manager.options.sessionProperty;
    if (fastify.hasRequestDecorator(property)) {
      throw new TypeError(
        `latchkey: request.${property} is already decorated by another plugin (@fastify/session?), so latchkey's session cannot live there. ` +
          `Run them side by side: fastifySessions({ sessionProperty: "latchkey" }) puts latchkey's session in request.latchkey ` +
          `(and for TypeScript: declare module "latchkey" { interface TypeConfig { sessionProperty: "latchkey" } }).`,
      );
    }
    fastify.decorate(RUNTIME, runtime);
    // Fastify 5 refuses reference-type defaults (shared by every request): null, set per request.
    fastify.decorateRequest(property, null);
    fastify.decorateRequest(EXCHANGE, null);
    fastify.decorateReply("createSession", createSessionOnReply);
    fastify.addHook("onRoute", answerSessionErrors);
    fastify.addHook("onClose", async () => close());
    fastify.register(serveEndpoints(runtime));
  };
  // Not encapsulated, as fastify-plugin would mark it (no dependency for one symbol): the
  // decorations and the onRoute hook apply to the app that registers it, not a child context.
  Object.assign(plugin, { [Symbol.for("skip-override")]: true, [Symbol.for("fastify.display-name")]: "latchkey" });
  return Object.assign(plugin, management, { close });
}

/**
 * `reply.createSession`: one function on Fastify's Reply prototype (no closure per request),
 * finding the runtime through the app the request belongs to.
 */
function createSessionOnReply(this: FastifyReply, userId: string, options?: CreateSessionOptions): Promise<Session> {
  const exchange = exchangeOf(this.request, this);
  return createSessionOnResponse(exchange.runtime, exchange, exchange, userId, options);
}

/**
 * Answers a `SessionError` thrown in a route or its hooks (`createSession` while the store
 * is down, a failed `assertClaims`) as Express's `errorHandler()` does: `{ message, code }`
 * with its status, the carried tokens cleared when they can never work again.
 *
 * Why a route-level `errorHandler` set from `onRoute`, rather than `setErrorHandler`: this
 * plugin is not encapsulated, so `setErrorHandler` here would take the app's root handler —
 * the app's own `setErrorHandler` would then warn (FSTWRN004; it throws with
 * `allowErrorHandlerOverride: false`) and replace latchkey's, and any encapsulated plugin
 * with a handler of its own would bypass it. A route's handler runs first and hands what it
 * throws to its context's handler, so the app's error handlers still get everything that is
 * not a session error, and a route's own `errorHandler` is kept (it gets the rest).
 */
function answerSessionErrors(route: RouteOptions): void {
  const own = route.errorHandler;
  route.errorHandler = function latchkeyErrorHandler(error, request, reply) {
    if (error instanceof SessionError) {
      const exchange = exchangeOf(request, reply);
      if (sendRouteError(exchange.runtime, exchange, exchange, error, true)) return;
    }
    if (own) return own.call(this, error, request, reply);
    throw error;
  };
}

/**
 * The protocol endpoints, in a context of their own: they read no body, and the SuperTokens
 * SDK posts them with `content-type: application/json` and nothing after it, which Fastify's
 * JSON parser refuses with 400. Here every content type is accepted and never read (Node
 * discards an unread body), while the app's own parsers stay as they are.
 */
function serveEndpoints(runtime: Runtime): FastifyPluginAsync {
  return async function latchkeyEndpoints(child) {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser("*", (_request, _payload, done) => done(null, undefined));
    for (const [key, endpoint] of endpoints(runtime.manager.options.apiBasePath)) {
      const [method, url] = key.split(" ") as [HTTPMethods, string];
      child.route({
        method,
        url,
        // A non-session failure rejects, for the app's error handler.
        handler: async (request, reply) => {
          const exchange = new FastifyExchange(request, reply, runtime);
          await endpoint(runtime, exchange, exchange);
          return reply;
        },
      });
    }
  };
}
