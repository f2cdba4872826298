// latchkey/lambda: the AWS Lambda adapter's one public door. Session, SessionError and the
// claims come from "latchkey" itself.
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
