import type { ErrorRequestHandler, Request, Response } from "express";
import { SessionError } from "../../errors";
import { sendRouteError } from "../../http/respond";
import { findExchange } from "./exchange";

/**
 * Renders a {@link SessionError} thrown in a route (for example `createSession` while the
 * database is down, or a failed `assertClaims`) as JSON `{ message, code }` with its
 * status — an invalid claim also carries `claimValidationErrors`, which the frontend SDK
 * reads — clearing the tokens when `verifySession` would. Anything else passes on.
 *
 * @example
 * ```ts
 * app.use(routes);
 * app.use(errorHandler());
 * ```
 */
export function errorHandler(): ErrorRequestHandler {
  return function latchkeyErrorHandler(error, req, res, next) {
    if (!answer(error, req, res, true)) next(error);
  };
}

/**
 * Answers a {@link SessionError} exactly as `verifySession` does — status, body and the
 * tokens cleared when they can never work again — for frameworks that route errors their
 * own way (a NestJS exception filter, see the README). Returns `false`, writing nothing,
 * for anything that is not a `SessionError` (or when the response has been sent).
 *
 * @example
 * ```ts
 * @Catch(SessionError)
 * class SessionErrorFilter implements ExceptionFilter {
 *   catch(error: SessionError, host: ArgumentsHost) {
 *     const http = host.switchToHttp();
 *     sendSessionError(error, http.getRequest(), http.getResponse());
 *   }
 * }
 * ```
 */
export function sendSessionError(error: unknown, req: Request, res: Response): boolean {
  return answer(error, req, res, false);
}

// Through the request's exchange when sessionMiddleware() saw it (the refusal reported,
// the carried tokens cleared); a request it never saw still gets the right status and body.
function answer(error: unknown, req: Request, res: Response, withCode: boolean): boolean {
  const exchange = findExchange(req);
  if (exchange) return sendRouteError(exchange.runtime, exchange, exchange, error, withCode);
  if (!(error instanceof SessionError) || res.headersSent) return false;
  res.status(error.status).json(withCode ? { ...error.toBody(), code: error.code } : error.toBody());
  return true;
}
