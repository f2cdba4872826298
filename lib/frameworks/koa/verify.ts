import type { Context, Middleware, Next } from "koa";
import { verifyPolicy, type VerifySessionOptions } from "../../http/options";
import { NEEDS_IO, refuseRequest, verifyNow, verifyRequest } from "../../http/verify";
import { exchangeOf, type KoaExchange } from "./exchange";

/**
 * Guards the middleware after it: sets `ctx.state.session`, or answers 401 (or the
 * invalid-claim 403) itself through `ctx.status` / `ctx.body` without calling `next` — the
 * chain settles either way. Verification is a signature check against keys in memory: no
 * database query unless `checkDatabase` is set, a claim must be fetched again, or the token
 * names a key this instance has not loaded yet. `OPTIONS` passes untouched.
 *
 * @example
 * ```ts
 * router.get("/api/me", verifySession(), (ctx) => {
 *   ctx.body = { userId: ctx.state.session!.userId };
 * });
 * router.post("/api/transfer", verifySession({ checkDatabase: true }), transfer);
 * ```
 */
export function verifySession(options?: VerifySessionOptions): Middleware {
  if (typeof options === "object" && options !== null && "app" in options && "req" in options) {
    throw new TypeError("latchkey: verifySession is a factory. Write verifySession(), not verifySession, in your route.");
  }
  const policy = verifyPolicy(options);
  // Not async: the fast path decides without a promise of its own and hands on next()'s.
  return function latchkeyVerifySession(ctx: Context, next: Next): Promise<unknown> | undefined {
    if (ctx.method === "OPTIONS") return next();
    const exchange = exchangeOf(ctx);
    const { runtime } = exchange;
    try {
      if (verifyNow(runtime, exchange, exchange, policy) !== NEEDS_IO) return next();
    } catch (error) {
      refuse(exchange, error);
      return undefined;
    }
    return verifyRequest(runtime, exchange, exchange, policy).then(
      () => next(),
      (error: unknown) => refuse(exchange, error),
    );
  };
}

// A session failure is answered here; anything else goes on to Koa's error handling.
function refuse(exchange: KoaExchange, error: unknown): void {
  if (!refuseRequest(exchange.runtime, exchange, exchange, error)) throw error;
}
