/**
 * `latchkey/lambda`: latchkey for AWS Lambda behind API Gateway (payload formats 1.0 and 2.0).
 * `Session`, `SessionError`, the claims and the option types come from "latchkey" itself.
 *
 * @example
 * ```ts
 * import { lambdaSessions } from "latchkey/lambda";
 * const sessions = lambdaSessions();
 * export const auth = sessions.middleware();
 * export const me = sessions.verifySession(async (event) => ({ statusCode: 200, body: JSON.stringify({ userId: event.session.userId }) }));
 * ```
 *
 * @packageDocumentation
 */
export { lambdaSessions } from "./sessions";
export type {
  ApiGatewayEvent,
  ApiGatewayResult,
  EventWithCreateSession,
  EventWithSession,
  HandlerResult,
  LambdaHandler,
  LambdaSessions,
} from "./types";
