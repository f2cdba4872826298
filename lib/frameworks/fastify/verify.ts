import type { HookHandlerDoneFunction, preHandlerHookHandler } from "fastify";
import { verifyPolicy, type VerifySessionOptions } from "../../http/options";
import { NEEDS_IO, refuseRequest, verifyNow, verifyRequest } from "../../http/verify";
import { exchangeOf, type FastifyExchange } from "./exchange";

/**
 * Guards a route as a `preHandler` hook: sets `request.session` or answers 401 (or the
 * invalid-claim 403) itself, through `reply.code().send()`, and the route never runs.
 * Verification is a signature check against keys in memory: no database query unless
 * `checkDatabase` is set, a claim must be fetched again, or the token names a key this
 * instance has not loaded yet. `OPTIONS` passes untouched.
 *
 * @example
 * ```ts
 * app.get("/api/me", { preHandler: verifySession() }, async (request) => ({ userId: request.session!.userId }));
 * app.post("/api/transfer", { preHandler: verifySession({ checkDatabase: true }) }, transfer);
 * ```
 */
export function verifySession(options?: VerifySessionOptions): preHandlerHookHandler {
  if (typeof options === "object" && options !== null && "raw" in options && "headers" in options) {
    throw new TypeError("latchkey: verifySession is a factory. Write { preHandler: verifySession() }, not { preHandler: verifySession }.");
  }
  const policy = verifyPolicy(options);
  // Callback style, not async: the fast path decides without a promise. A refusal sends the
  // reply and does not call done, which (Fastify's hooks contract) ends the chain there.
  return function latchkeyVerifySession(request, reply, done) {
    if (request.method === "OPTIONS") return done();
    let exchange: FastifyExchange;
    try {
      exchange = exchangeOf(request, reply);
    } catch (error) {
      return done(error as Error);
    }
    const { runtime } = exchange;
    try {
      if (verifyNow(runtime, exchange, exchange, policy) !== NEEDS_IO) return done();
    } catch (error) {
      return refuse(exchange, done, error);
    }
    verifyRequest(runtime, exchange, exchange, policy).then(
      () => done(),
      (error: unknown) => refuse(exchange, done, error),
    );
  };
}

function refuse(exchange: FastifyExchange, done: HookHandlerDoneFunction, error: unknown): void {
  if (!refuseRequest(exchange.runtime, exchange, exchange, error)) done(error as Error);
}
