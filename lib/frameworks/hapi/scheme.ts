import type { Request, ResponseToolkit, ServerAuthScheme } from "@hapi/hapi";
import { verifyPolicy, type VerifySessionOptions } from "../../http/options";
import type { Runtime } from "../../http/runtime";
import { NEEDS_IO, refuseRequest, verifyNow, verifyRequest } from "../../http/verify";
import type { Session } from "../../session";
import { exchangeOf } from "./exchange";

/** The name the plugin registers its auth scheme under: `server.auth.strategy("session", "latchkey", options?)`. */
export const SCHEME = "latchkey";

/**
 * The `"latchkey"` auth scheme. Each strategy built on it carries `verifySession`'s
 * options (`server.auth.strategy("optional", "latchkey", { sessionRequired: false })`), checked
 * when the strategy is declared. A refusal is answered here, with latchkey's status, body and
 * cleared cookies, as a takeover response: never Hapi's own 401 payload, which the frontend
 * SDK would read as "not signed in" rather than "refresh".
 */
export function latchkeyScheme(runtime: Runtime): ServerAuthScheme<VerifySessionOptions> {
  return (_server, options) => {
    const policy = verifyPolicy(options, `"${SCHEME}" auth strategy`);
    return {
      async authenticate(request: Request, h: ResponseToolkit) {
        const exchange = exchangeOf(request);
        let session: Session | undefined;
        try {
          const now = verifyNow(runtime, exchange.req, exchange.res, policy);
          session = now === NEEDS_IO ? await verifyRequest(runtime, exchange.req, exchange.res, policy) : now;
        } catch (error) {
          if (!refuseRequest(runtime, exchange.req, exchange.res, error)) throw error;
          // onPreResponse puts the headers and cleared cookies on this answer.
          return h.response(exchange.res.body as object).code(exchange.res.status ?? 401).takeover();
        }
        // An anonymous request on a strategy with sessionRequired: false passes with no session.
        return h.authenticated({ credentials: { session } });
      },
    };
  };
}
