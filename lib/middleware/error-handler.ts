import type { ErrorRequestHandler } from "express";
import { SessionError } from "../errors";

/**
 * Renders a {@link SessionError} thrown in a route (for example `createSession` while the
 * database is down) as JSON `{ message, code }` with its status. Anything else passes on.
 *
 * @example
 * ```ts
 * app.use(routes);
 * app.use(errorHandler());
 * ```
 */
export function errorHandler(): ErrorRequestHandler {
  return function latchkeyErrorHandler(error, _req, res, next) {
    if (!(error instanceof SessionError) || res.headersSent) return next(error);
    res.status(error.status).json({ message: error.message, code: error.code });
  };
}
