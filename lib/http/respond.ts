import { SessionError } from "../errors";
import type { ClientInfo } from "../hooks";
import { metrics } from "../metrics";
import { readAccessToken, type TransferMode } from "./credentials";
import type { Runtime } from "./runtime";
import type { HttpRequest, HttpResponse } from "./seam";

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
 * reported: to `onRefused`, and with `debug` to the log (never a token). Returns `false`,
 * writing nothing, for anything that is not a `SessionError` or once the response is sent:
 * the adapter hands that on to its framework's error handling.
 */
export function sendSessionError(runtime: Runtime, req: HttpRequest, res: HttpResponse, error: unknown, refusal: Refusal): boolean {
  if (!(error instanceof SessionError) || res.headersSent()) return false;
  reportRefusal(runtime, req, error, refusal.kind);
  if ((error.code === "UNAUTHORISED" || error.code === "TOKEN_THEFT_DETECTED") && refusal.carried) {
    runtime.transfer.clearTokens(req, res, refusal.mode, refusal.mode === "header");
  }
  res.sendJson(error.status, error.toBody());
  return true;
}

/**
 * Answers a `SessionError` thrown in a route (an error handler, a framework's exception
 * filter) as `verifySession` would: reported, and the carried tokens cleared when they can
 * never work again. `withCode` adds the code to a 401 body too (`errorHandler()`'s shape).
 */
export function sendRouteError(runtime: Runtime, req: HttpRequest, res: HttpResponse, error: unknown, withCode: boolean): boolean {
  if (!(error instanceof SessionError) || res.headersSent()) return false;
  clearIfDone(runtime, req, res, error);
  res.sendJson(error.status, withCode ? { ...error.toBody(), code: error.code } : error.toBody());
  return true;
}

// Reports the refusal (onRefused, the debug log) and clears what can never work again.
function clearIfDone(runtime: Runtime, req: HttpRequest, res: HttpResponse, error: SessionError): void {
  if (error.code !== "CROSS_ORIGIN_REQUEST") reportRefusal(runtime, req, error, "access");
  if (error.code !== "UNAUTHORISED" && error.code !== "TOKEN_THEFT_DETECTED") return;
  // Only tokens the request carried: clearing what it never sent could wipe a session a
  // parallel login has just set (supertokens-node#17).
  const found = readAccessToken(req, runtime.transfer.names(req), runtime.manager.keys);
  if (found) runtime.transfer.clearTokens(req, res, found.mode, found.mode === "header");
}

/**
 * Tells `onRefused`, the `latchkey.refusals` counter and (with `debug`) the log of a refusal,
 * a store outage's 503 included: every refused request is counted, whatever refused it.
 */
export function reportRefusal(runtime: Runtime, req: HttpRequest, error: SessionError, kind: "access" | "refresh"): void {
  const { manager } = runtime;
  const path = req.path();
  const reason = error.reason ?? error.message;
  metrics.refusal(error.code, reason, kind);
  const client = clientOf(req);
  if (manager.diagnostics.debugging) {
    manager.diagnostics.debug(`refused ${req.method} ${path} (${reason}): ${error.status} ${error.message}`, {
      code: error.code,
      reason,
      status: error.status,
      method: req.method,
      path,
      clientIp: client.ip,
    });
  }
  if (!manager.options.onRefused) return;
  manager.emit("onRefused", {
    kind,
    code: error.code,
    reason,
    method: req.method,
    path,
    clientIp: client.ip,
    clientUserAgent: client.userAgent,
    at: manager.now(),
  });
}

/** Who sent the request: the IP as the framework resolves it (honouring its proxy settings) and the user agent. */
export function clientOf(req: HttpRequest): ClientInfo {
  return { ip: req.ip()?.slice(0, 64) ?? null, userAgent: req.header("user-agent")?.slice(0, 512) ?? null };
}
