// The LoopBack 4 recipe (docs/recipes/loopback.md), verbatim except for the import path
// ("latchkey" there, the sources here): spec/loopback.loopback.spec.ts runs exactly this code.
import type { Interceptor } from "@loopback/core";
import { RestBindings, RestMiddlewareGroups, type ExpressRequestHandler, type Middleware, type RestApplication } from "@loopback/rest";
import { getSession, sendSessionError, SessionError, type SessionMiddleware, type VerifySessionOptions } from "../../lib";

// LoopBack types its request and response with its own copy of @types/express (4.x); latchkey's
// follow the `express` types your project resolves. Asking for them by key with these types
// compiles with either copy: the objects are the same.
type Request = Parameters<typeof getSession>[0];
type Response = Parameters<typeof getSession>[1];
const REQUEST = RestBindings.Http.REQUEST.key;
const RESPONSE = RestBindings.Http.RESPONSE.key;

/**
 * Mounts latchkey in a LoopBack app: its Express middleware in LoopBack's `middleware` group, so it
 * serves `/auth/session/refresh`, `/auth/signout` and `/auth/jwt/jwks.json` and gives controllers
 * `res.createSession`, and a middleware that answers a `SessionError` as `verifySession()` would.
 */
export function mountLatchkey(app: RestApplication, sessions: SessionMiddleware): void {
  app.expressMiddleware("middleware.latchkey", sessions as unknown as ExpressRequestHandler); // the cast: see Request above
  app.middleware(sessionErrors, {
    group: "latchkeyErrors",
    upstreamGroups: [RestMiddlewareGroups.SEND_RESPONSE],
    downstreamGroups: [RestMiddlewareGroups.CORS],
  });
}

/** Right below LoopBack's `sendResponse`, so it sees the errors of every middleware, route and controller first. */
export const sessionErrors: Middleware = async (context, next) => {
  try {
    return await next();
  } catch (error) {
    if (!(error instanceof SessionError)) throw error;
    // 401/403/503 with latchkey's body, dead tokens cleared; returning the response tells LoopBack it is written.
    if (sendSessionError(error, await context.get<Request>(REQUEST), await context.get<Response>(RESPONSE))) return context.response;
    throw error;
  }
};

/** For `@intercept(requireSession(options))` on a controller method or class: sets `req.session`, or throws a `SessionError`. */
export function requireSession(options: VerifySessionOptions = {}): Interceptor {
  return async (invocation, next) => {
    await getSession(await invocation.get<Request>(REQUEST), await invocation.get<Response>(RESPONSE), options);
    return next();
  };
}
