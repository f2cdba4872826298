import type { NextFunction, Request, Response } from "express";
import type { TransferMode } from "../cookies";
import { SessionError } from "../errors";
import type { Runtime } from "../runtime";

/**
 * Answers a session failure the way the frontend SDK expects. Tokens are cleared only
 * when they can never work again (unauthorised, theft); "try refresh token" keeps them,
 * and a store outage keeps them so the user is still signed in when it ends.
 */
export function sendSessionError(
  runtime: Runtime,
  req: Request,
  res: Response,
  next: NextFunction,
  error: unknown,
  mode: TransferMode,
): void {
  if (!(error instanceof SessionError)) return next(error);
  if (res.headersSent) return next(error);
  if (error.code === "UNAUTHORISED" || error.code === "TOKEN_THEFT_DETECTED") runtime.transfer.clearTokens(req, res, mode);
  res.status(error.status).json(error.toBody());
}
