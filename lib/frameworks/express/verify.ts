import type { NextFunction, Request, RequestHandler, Response } from "express";
import { verifyPolicy, type VerifySessionOptions } from "../../http/options";
import { NEEDS_IO, refuseRequest, verifyNowDeferring, verifyRequest } from "../../http/verify";
import type { Session } from "../../session";
import { exchangeOf, type ExpressExchange } from "./exchange";
import { claimProperty } from "./property";

/**
 * Guards a route: sets `req.session` or answers 401 (or the invalid-claim status) itself.
 * Verification is a signature check against keys in memory: no database query unless
 * `checkDatabase` is set, a claim must be fetched again, or the token names a key this
 * instance has not loaded yet.
 *
 * @example
 * ```ts
 * app.get("/api/me", verifySession(), (req, res) => res.json({ userId: req.session!.userId }));
 * app.post("/api/transfer", verifySession({ checkDatabase: true }), transfer);
 * app.get("/admin", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, Roles.validators.includes("admin")] }), admin);
 * ```
 */
export function verifySession(options?: VerifySessionOptions): RequestHandler {
  if (isRequest(options)) {
    throw new TypeError("latchkey: verifySession is a factory. Write verifySession(), not verifySession, in your route.");
  }
  const policy = verifyPolicy(options);
  return function latchkeyVerifySession(req: Request, _res: Response, next: NextFunction): void {
    if (req.method === "OPTIONS") return next();
    let exchange: ExpressExchange;
    try {
      exchange = exchangeOf(req);
      claimProperty(req, exchange.runtime.manager.options.sessionProperty);
    } catch (error) {
      return next(error);
    }
    const { runtime } = exchange;
    // Fast path: keys in memory, nothing to fetch, no promise; the Session itself is built
    // when the route reads req.session.
    try {
      if (verifyNowDeferring(runtime, exchange, exchange, policy, exchange) !== NEEDS_IO) return next();
    } catch (error) {
      return refuse(exchange, next, error);
    }
    verifyRequest(runtime, exchange, exchange, policy).then(
      () => next(),
      (error: unknown) => refuse(exchange, next, error),
    );
  };
}

/**
 * The programmatic form of {@link verifySession}: resolves to the request's session
 * (also set as `req.session`), to `undefined` for an anonymous request when
 * `sessionRequired` is `false`, or rejects with a `SessionError` — which
 * `sendSessionError` (or `errorHandler()`) answers as `verifySession` would.
 */
export function getSession(req: Request, res: Response, options?: VerifySessionOptions & { sessionRequired?: true }): Promise<Session>;
export function getSession(req: Request, res: Response, options: VerifySessionOptions): Promise<Session | undefined>;
export async function getSession(req: Request, _res: Response, options?: VerifySessionOptions): Promise<Session | undefined> {
  const policy = verifyPolicy(options);
  const exchange = exchangeOf(req);
  claimProperty(req, exchange.runtime.manager.options.sessionProperty);
  return verifyRequest(exchange.runtime, exchange, exchange, policy);
}

function refuse(exchange: ExpressExchange, next: NextFunction, error: unknown): void {
  if (!refuseRequest(exchange.runtime, exchange, exchange, error)) next(error);
}

/** Catches `app.use(verifySession)`: Express would pass a request where options belong. */
export function isRequest(value: unknown): boolean {
  return typeof value === "object" && value !== null && "headers" in value && "method" in value;
}
