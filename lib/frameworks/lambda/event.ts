import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { BufferedResponse } from "../../http/buffered";
import { FieldsRequest } from "../../http/fields-request";
import type { Runtime } from "../../http/runtime";
import { createSessionOnResponse } from "../../http/create";
import type { CreateSessionOptions } from "../../http/options";
import type { Session } from "../../session";
import type { ApiGatewayEvent } from "./types";

/** One invocation's side of the seam, kept on the event so that nested wrappers share it. */
export interface LambdaExchange {
  readonly shape: "v1" | "v2";
  readonly req: FieldsRequest;
  readonly res: BufferedResponse;
}

const EXCHANGE = Symbol("latchkey.exchange");

type Decorated = ApiGatewayEvent & {
  [EXCHANGE]?: LambdaExchange;
  session?: Session;
  createSession?: (userId: string, options?: CreateSessionOptions) => Promise<Session>;
};

/** Payload 2.0 carries `requestContext.http`; 1.0 (REST APIs, and HTTP APIs set to 1.0) does not. */
export function isV2(event: ApiGatewayEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).requestContext?.http !== undefined;
}

export function findExchange(event: ApiGatewayEvent): LambdaExchange | undefined {
  return (event as Decorated)[EXCHANGE];
}

/**
 * Reads the event as API Gateway builds it and gives it `event.createSession`. The request is
 * TLS unless `X-Forwarded-Proto` says `http` (API Gateway itself only serves HTTPS); the IP and
 * user agent are API Gateway's `sourceIp` and `userAgent`. The path is `event.path` (v1: the
 * stage is not in it) or `event.rawPath` (v2).
 */
export function attachExchange(runtime: Runtime, event: ApiGatewayEvent): LambdaExchange {
  const decorated = event as Decorated;
  const header = headerReader(event);
  const v2 = isV2(event);
  const proto = header("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  const exchange: LambdaExchange = {
    shape: v2 ? "v2" : "v1",
    req: new FieldsRequest({
      method: v2 ? event.requestContext.http.method : event.httpMethod,
      path: v2 ? event.rawPath : event.path,
      header,
      ip: (v2 ? event.requestContext.http.sourceIp : event.requestContext?.identity?.sourceIp) || undefined,
      secure: proto !== "http",
      setSession: (session) => {
        decorated.session = session;
      },
    }),
    res: new BufferedResponse(),
  };
  Object.defineProperty(decorated, EXCHANGE, { value: exchange, configurable: true });
  decorated.createSession = (userId, options) => createSessionOnResponse(runtime, exchange.req, exchange.res, userId, options);
  return exchange;
}

/**
 * Headers by lower-case name. v1 keeps the client's spelling and repeats in
 * `multiValueHeaders`; v2 lower-cases and comma-joins them and moves cookies to
 * `event.cookies`, which is joined back into one Cookie header. The user agent falls back to
 * the one API Gateway reports.
 */
function headerReader(event: ApiGatewayEvent): (name: string) => string | undefined {
  const headers = new Map<string, string>();
  const multi = isV2(event) ? undefined : event.multiValueHeaders;
  for (const [name, values] of Object.entries(multi ?? {})) {
    if (values && values.length > 0) headers.set(name.toLowerCase(), values.join(name.toLowerCase() === "cookie" ? "; " : ", "));
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && !headers.has(name.toLowerCase())) headers.set(name.toLowerCase(), value);
  }
  if (isV2(event)) {
    if (event.cookies && event.cookies.length > 0) headers.set("cookie", event.cookies.join("; "));
    if (!headers.has("user-agent") && event.requestContext.http.userAgent) headers.set("user-agent", event.requestContext.http.userAgent);
  } else {
    const agent = event.requestContext?.identity?.userAgent;
    if (!headers.has("user-agent") && agent) headers.set("user-agent", agent);
  }
  return (name) => headers.get(name);
}
