import type { NextFunction, Request, Response } from "express";
import { exchangeOf } from "./exchange";
import { sessionOf } from "./property";
import type { SessionRequest } from "./types";

/**
 * Types a handler that runs after `verifySession()` (with `sessionRequired`, the default):
 * its `req.session` (or your `sessionProperty`) is always there. Express checks every
 * handler of a route against one `Request` type, in which the session is optional, so a
 * handler typed `(req: SessionRequest) =>` cannot be passed directly; this wrapper is the
 * sound way. It also passes an `async` handler's rejection to `next`, which Express 4 does
 * not (there, a rejected promise would be an unhandled rejection).
 *
 * @example
 * ```ts
 * app.get("/api/me", verifySession(), withSession(async (req, res) => {
 *   res.json({ userId: req.session.userId, plan: (await req.session.getSessionData()).plan });
 * }));
 * ```
 */
export function withSession<Req extends Request = Request, Res extends Response = Response>(
  handler: (req: SessionRequest<Req>, res: Res, next: NextFunction) => unknown,
): (req: Req, res: Res, next: NextFunction) => void {
  if (typeof handler !== "function") throw new TypeError("latchkey: withSession(handler) needs a route handler function.");
  return function latchkeyWithSession(req: Req, res: Res, next: NextFunction): void {
    try {
      const property = exchangeOf(req).runtime.manager.options.sessionProperty;
      if (!sessionOf(req, property)) {
        throw new Error(`latchkey: withSession(handler) found no req.${property}: put verifySession() (with sessionRequired) before it in the route.`);
      }
      const result = handler(req as SessionRequest<Req>, res, next);
      if (result instanceof Promise) result.catch(next);
    } catch (error) {
      next(error);
    }
  };
}
