import type { ErrorRequestHandler, Request, Response } from "express";
import { readAccessToken } from "../credentials";
import { SessionError } from "../errors";
import { runtimeOf } from "../runtime";
import { reportRefusal } from "./respond";

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
    if (!(error instanceof SessionError) || res.headersSent) return next(error);
    clearIfDone(error, req, res);
    res.status(error.status).json({ ...error.toBody(), code: error.code });
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
  if (!(error instanceof SessionError) || res.headersSent) return false;
  clearIfDone(error, req, res);
  res.status(error.status).json(error.toBody());
  return true;
}

// Reports the refusal (onRefused, the debug log) and clears what can never work again.
function clearIfDone(error: SessionError, req: Request, res: Response): void {
  let runtime;
  try {
    runtime = runtimeOf(req);
  } catch {
    return;
  }
  if (error.code !== "STORE_UNAVAILABLE" && error.code !== "CROSS_ORIGIN_REQUEST") reportRefusal(runtime, req, error, "access");
  if (error.code !== "UNAUTHORISED" && error.code !== "TOKEN_THEFT_DETECTED") return;
  // Only tokens the request carried: clearing what it never sent could wipe a session a
  // parallel login has just set (supertokens-node#17).
  const found = readAccessToken(req, runtime.transfer.names(req));
  if (found) runtime.transfer.clearTokens(req, res, found.mode);
}
