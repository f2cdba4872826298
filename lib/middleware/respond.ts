import type { NextFunction, Request, Response } from "express";
import type { TransferMode } from "../credentials";
import { SessionError } from "../errors";
import type { ClientInfo } from "../manager";
import type { Runtime } from "../runtime";

/** How a refused request was authenticated, for the answer and the audit trail. */
export interface Refusal {
  /** The mode the answer uses (the credential's, else what the request asked for). */
  mode: TransferMode;
  kind: "access" | "refresh";
  /** Whether the request carried a token: only then are tokens cleared (no logout CSRF, supertokens-node#17). */
  carried: boolean;
}

/**
 * Answers a session failure the way the frontend SDK expects. Tokens are cleared only
 * when the request carried some and they can never work again (unauthorised, theft);
 * "try refresh token", an invalid claim and a store outage keep them. Every refusal is
 * reported: to `onRefused`, and with `debug` to the log (never a token).
 */
export function sendSessionError(runtime: Runtime, req: Request, res: Response, next: NextFunction, error: unknown, refusal: Refusal): void {
  if (!(error instanceof SessionError) || res.headersSent) return next(error);
  if (error.code !== "STORE_UNAVAILABLE") reportRefusal(runtime, req, error, refusal.kind);
  if ((error.code === "UNAUTHORISED" || error.code === "TOKEN_THEFT_DETECTED") && refusal.carried) {
    runtime.transfer.clearTokens(req, res, refusal.mode);
  }
  res.status(error.status).json(error.toBody());
}

export function reportRefusal(runtime: Runtime, req: Request, error: SessionError, kind: "access" | "refresh"): void {
  const { manager } = runtime;
  const path = (req.originalUrl ?? req.url).split("?")[0] as string;
  manager.diagnostics.debug(`refused ${req.method} ${path} (${error.reason ?? error.message}): ${error.status} ${error.message}`);
  if (!manager.options.onRefused) return;
  const client = clientOf(req);
  manager.emit("onRefused", {
    kind,
    code: error.code,
    reason: error.reason ?? error.message,
    method: req.method,
    path,
    clientIp: client.ip,
    clientUserAgent: client.userAgent,
    at: manager.now(),
  });
}

/** Who sent the request: the IP as Express reports it (honouring `trust proxy`) and the user agent. */
export function clientOf(req: Request): ClientInfo {
  return { ip: req.ip?.slice(0, 64) ?? null, userAgent: req.get("user-agent")?.slice(0, 512) ?? null };
}
