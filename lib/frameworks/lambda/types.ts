import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import type { CreateSessionOptions, VerifySessionOptions } from "../../http/options";
import type { Session } from "../../session";
import type { SessionManagement } from "../../types/management";

/**
 * An API Gateway event: REST API (payload 1.0) or HTTP API (payload 2.0). The wrappers take
 * either, told apart per event; name one to narrow the handler's event.
 *
 * @example
 * ```ts
 * export const me = sessions.verifySession<APIGatewayProxyEventV2>(async (event) => ({ userId: event.session.userId, path: event.rawPath }));
 * ```
 */
export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/**
 * What a wrapped handler may return: v1 a result with `statusCode` (or a string body); v2 also
 * a string or an object sent as JSON, as API Gateway reads them.
 *
 * @example
 * ```ts
 * const answer: HandlerResult<APIGatewayProxyEvent> = { statusCode: 200, body: "{}" };
 * ```
 */
export type HandlerResult<E extends ApiGatewayEvent> = E extends APIGatewayProxyEventV2 ? APIGatewayProxyResultV2<unknown> : APIGatewayProxyResult | string;

/**
 * What a wrapped handler answers API Gateway: the shape of the event's payload version, with
 * latchkey's cookies and headers merged in.
 *
 * @example
 * ```ts
 * const result: ApiGatewayResult<APIGatewayProxyEvent> = await me(event, context);
 * result.multiValueHeaders?.["Set-Cookie"]; // every cookie, one line each
 * ```
 */
export type ApiGatewayResult<E extends ApiGatewayEvent> = E extends APIGatewayProxyEventV2 ? APIGatewayProxyStructuredResultV2 : APIGatewayProxyResult;

/**
 * The event inside `middleware(handler)`: it can create a session, whose tokens go on the
 * handler's result.
 *
 * @example
 * ```ts
 * async function login(event: EventWithCreateSession<APIGatewayProxyEventV2>) {
 *   await event.createSession(await checkPassword(event.body));
 *   return { statusCode: 200, body: "{}" };
 * }
 * export const handler = sessions.middleware(login);
 * ```
 */
export type EventWithCreateSession<E extends ApiGatewayEvent> = E & {
  /**
   * Creates a session for `userId`: one row in the store, then the token cookies (or
   * headers) and `front-token` on the result this handler returns. Rejects with a
   * `SessionError` and sets nothing if the session cannot be created.
   */
  createSession(userId: string, options?: CreateSessionOptions): Promise<Session>;
  /** The session `createSession` created, or one a `verifySession` wrapper set. */
  session?: Session;
};

/**
 * The event inside `verifySession(handler)`: `session` is there (with `sessionRequired: false`,
 * maybe not: `EventWithSession<E, false>`).
 *
 * @example
 * ```ts
 * async function me(event: EventWithSession<APIGatewayProxyEventV2>) {
 *   return { userId: event.session.userId };
 * }
 * export const handler = sessions.verifySession(me);
 * ```
 */
export type EventWithSession<E extends ApiGatewayEvent, Required extends boolean = true> = EventWithCreateSession<E> &
  (Required extends true ? { session: Session } : { session?: Session });

/**
 * A Lambda handler as latchkey wraps it (async; the callback style is not supported).
 *
 * @example
 * ```ts
 * const me: LambdaHandler<EventWithSession<APIGatewayProxyEvent>, HandlerResult<APIGatewayProxyEvent>> = async (event) => ({ statusCode: 200, body: event.session.userId });
 * ```
 */
export type LambdaHandler<E, R> = (event: E, context: Context) => R | Promise<R>;

/**
 * What `lambdaSessions()` returns: the two wrappers and the management API.
 *
 * @example
 * ```ts
 * const sessions: LambdaSessions = lambdaSessions();
 * export const auth = sessions.middleware();
 * export const signOutEverywhere = sessions.verifySession(async (event) => {
 *   await sessions.revokeAllSessionsForUser(event.session.userId);
 *   return { statusCode: 200, body: "{}" };
 * });
 * ```
 */
export interface LambdaSessions extends SessionManagement {
  /**
   * Wraps a handler: answers latchkey's endpoints under `apiBasePath` itself (the handler
   * is not called), gives `event.createSession`, puts latchkey's cookies and headers on
   * the handler's result and answers a `SessionError` it throws. Without a handler, other
   * paths answer 404: a function for the endpoints alone.
   */
  middleware(): (event: ApiGatewayEvent, context?: Context) => Promise<APIGatewayProxyResult | APIGatewayProxyStructuredResultV2>;
  middleware<E extends ApiGatewayEvent>(handler: LambdaHandler<EventWithCreateSession<E>, HandlerResult<E>>): (event: E, context: Context) => Promise<ApiGatewayResult<E>>;
  /**
   * Wraps a handler behind a session check: sets `event.session`, or answers 401 (or the
   * invalid-claim status) without calling the handler. Takes `verifySession`'s options.
   */
  verifySession<E extends ApiGatewayEvent>(
    handler: LambdaHandler<EventWithSession<E>, HandlerResult<E>>,
    options?: VerifySessionOptions & { sessionRequired?: true },
  ): (event: E, context: Context) => Promise<ApiGatewayResult<E>>;
  verifySession<E extends ApiGatewayEvent>(
    handler: LambdaHandler<EventWithSession<E, false>, HandlerResult<E>>,
    options: VerifySessionOptions,
  ): (event: E, context: Context) => Promise<ApiGatewayResult<E>>;
}
