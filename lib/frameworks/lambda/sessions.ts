import type { Context } from "aws-lambda";
import { endpoints } from "../../http/endpoints";
import { verifyPolicy, type VerifySessionOptions } from "../../http/options";
import { sendRouteError } from "../../http/respond";
import { createRuntime, type Runtime } from "../../http/runtime";
import { refuseRequest, verifyRequest } from "../../http/verify";
import { createManager, managementOf } from "../../management";
import type { SessionMiddlewareOptions } from "../../options/contract";
import { attachExchange, findExchange, type LambdaExchange } from "./event";
import { answerResult, mergeResult } from "./result";
import type { ApiGatewayEvent, LambdaSessions } from "./types";

/** What an inner step answers when latchkey's own response (in the buffer) is the answer. */
const ANSWERED = Symbol("answered");

type AnyHandler = (event: never, context: Context) => unknown;

/**
 * Creates latchkey for AWS Lambda behind API Gateway (REST APIs, payload 1.0, and HTTP APIs,
 * payload 2.0, told apart per event). `middleware(handler)` serves the endpoints and gives
 * `event.createSession`; `verifySession(handler, options?)` guards a handler and sets
 * `event.session`. They nest (a guarded handler inside a middleware-wrapped router). The
 * returned object also carries the management API (`ready`, `revokeSession`, …).
 *
 * A frozen function runs no timers between invocations, so `verifySession` polls the store
 * for revocations before verifying whenever the last poll is older than the poll interval
 * (one small query at most every 2 s of a warm function's life).
 *
 * @example
 * ```ts
 * const sessions = lambdaSessions();
 * export const auth = sessions.middleware(); // ANY /auth/{proxy+}
 * export const login = sessions.middleware(async (event) => {
 *   const session = await event.createSession(await checkPassword(event.body));
 *   return { statusCode: 200, body: JSON.stringify({ handle: session.handle }) };
 * });
 * export const me = sessions.verifySession(async (event) => ({ statusCode: 200, body: JSON.stringify({ userId: event.session.userId }) }));
 * ```
 */
export function lambdaSessions(options?: SessionMiddlewareOptions): LambdaSessions {
  const manager = createManager(options);
  const runtime = createRuntime(manager);
  const routes = endpoints(manager.options.apiBasePath);

  function middleware(handler?: AnyHandler) {
    if (handler !== undefined && typeof handler !== "function") throw new TypeError("latchkey: middleware(handler) needs a Lambda handler function (or nothing, for the endpoints alone).");
    return function latchkeyMiddleware(event: ApiGatewayEvent, context: Context) {
      return run(runtime, event, async (exchange) => {
        const endpoint = routes.get(`${exchange.req.method} ${exchange.req.path()}`);
        if (endpoint) {
          await endpoint(runtime, exchange.req, exchange.res);
          return ANSWERED;
        }
        if (!handler) {
          exchange.res.sendJson(404, { message: "not found" });
          return ANSWERED;
        }
        return handler(event as never, context);
      });
    };
  }

  function verifySession(handler: AnyHandler, verifyOptions?: VerifySessionOptions) {
    if (typeof handler !== "function") throw new TypeError("latchkey: verifySession(handler, options?) wraps a Lambda handler function.");
    const policy = verifyPolicy(verifyOptions);
    return function latchkeyVerifySession(event: ApiGatewayEvent, context: Context) {
      return run(runtime, event, async (exchange) => {
        if (exchange.req.method !== "OPTIONS") {
          if (manager.isReady) await manager.background.pollIfStale();
          try {
            await verifyRequest(runtime, exchange.req, exchange.res, policy);
          } catch (error) {
            if (refuseRequest(runtime, exchange.req, exchange.res, error)) return ANSWERED;
            throw error;
          }
        }
        return handler(event as never, context);
      });
    };
  }

  return { middleware, verifySession, ...managementOf(manager) } as LambdaSessions;
}

/**
 * Runs one wrapper's work on the invocation's exchange. Each wrapper merges what latchkey
 * has set so far into the result it returns (the merge forgets it, so nothing goes on twice,
 * and every wrapper returns the result type it promises). The outermost one answers a
 * `SessionError` the handler threw (anything else is rethrown, for Lambda to report); an
 * inner one hands the error out to it.
 */
async function run(runtime: Runtime, event: ApiGatewayEvent, work: (exchange: LambdaExchange) => Promise<unknown>): Promise<never> {
  const outer = findExchange(event);
  const exchange = outer ?? attachExchange(runtime, event);
  try {
    const result = await work(exchange);
    if (result === ANSWERED) return answerResult(exchange) as never;
    return mergeResult(exchange, result) as never;
  } catch (error) {
    if (!outer && sendRouteError(runtime, exchange.req, exchange.res, error, true)) return answerResult(exchange) as never;
    throw error;
  }
}
