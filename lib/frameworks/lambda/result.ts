import type { APIGatewayProxyResult, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { BufferedResponse } from "../../http/buffered";
import type { LambdaExchange } from "./event";

type HeaderValue = boolean | number | string;

/**
 * Puts what latchkey set on the handler's result, in the shape of the event's payload version,
 * then forgets it (so an outer wrapper adds nothing twice). Every `Set-Cookie` stays a line of
 * its own — v1: `multiValueHeaders["Set-Cookie"]` (two in `headers` would silently drop one);
 * v2: `cookies[]` (joined into one header, a browser would read one cookie) — and the handler's
 * own cookies are kept. `Access-Control-Expose-Headers` gets latchkey's names added; any other
 * header of latchkey's replaces the handler's (a token response stays `Cache-Control: no-store`).
 */
export function mergeResult(exchange: LambdaExchange, result: unknown): APIGatewayProxyResult | APIGatewayProxyStructuredResultV2 {
  const merged = exchange.shape === "v1" ? mergeV1(exchange.res, result as APIGatewayProxyResult | string) : mergeV2(exchange.res, result as APIGatewayProxyResultV2<unknown>);
  exchange.res.reset();
  return merged;
}

/** The answer latchkey gave itself (an endpoint, a refusal, a route's SessionError), as a result. */
export function answerResult(exchange: LambdaExchange): APIGatewayProxyResult | APIGatewayProxyStructuredResultV2 {
  return mergeResult(exchange, { statusCode: exchange.res.status ?? 200, body: JSON.stringify(exchange.res.body ?? {}) });
}

// A string is the body of a 200; v1 needs a statusCode, so anything else is the handler's result as is.
function mergeV1(buffered: BufferedResponse, result: APIGatewayProxyResult | string): APIGatewayProxyResult {
  const base: APIGatewayProxyResult = typeof result === "string" ? { statusCode: 200, body: result } : { ...result };
  const headers = { ...base.headers };
  const multi = { ...base.multiValueHeaders };
  const cookies = [...take(multi, "set-cookie").flat(), ...take(headers, "set-cookie")];
  for (const [name, values] of buffered.headers()) {
    if (name.toLowerCase() === "set-cookie") {
      cookies.push(...values);
      continue;
    }
    const existing = [...take(multi, name).flat(), ...take(headers, name)];
    headers[name] = combine(name, existing, values);
  }
  if (cookies.length > 0) multi["Set-Cookie"] = cookies;
  const merged: APIGatewayProxyResult = { ...base, headers };
  if (Object.keys(multi).length > 0) merged.multiValueHeaders = multi;
  return merged;
}

// As API Gateway reads a 2.0 result: a string is the body; an object without statusCode is
// itself the body, as JSON.
function mergeV2(buffered: BufferedResponse, result: APIGatewayProxyResultV2<unknown>): APIGatewayProxyStructuredResultV2 {
  let base: APIGatewayProxyStructuredResultV2;
  if (typeof result === "string") base = { statusCode: 200, body: result };
  else if (isStructured(result)) base = { ...result };
  else base = { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(result) };
  const headers = { ...base.headers };
  const cookies = [...(base.cookies ?? []), ...take(headers, "set-cookie").map(String)];
  for (const [name, values] of buffered.headers()) {
    if (name.toLowerCase() === "set-cookie") cookies.push(...values);
    else headers[name] = combine(name, take(headers, name), values);
  }
  const merged: APIGatewayProxyStructuredResultV2 = { ...base, headers };
  if (cookies.length > 0) merged.cookies = cookies;
  return merged;
}

function isStructured(result: unknown): result is APIGatewayProxyStructuredResultV2 {
  return typeof result === "object" && result !== null && "statusCode" in result;
}

// Removes every spelling of a header name, returning its values.
function take<T>(headers: Record<string, T>, name: string): T[] {
  const lower = name.toLowerCase();
  const values: T[] = [];
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== lower) continue;
    values.push(headers[key]!);
    delete headers[key];
  }
  return values;
}

function combine(name: string, existing: HeaderValue[], values: string[]): string {
  if (name.toLowerCase() !== "access-control-expose-headers" || existing.length === 0) return values.join(", ");
  const listed = existing.flatMap((value) => String(value).split(",")).map((item) => item.trim()).filter(Boolean);
  for (const value of values.flatMap((item) => item.split(",")).map((item) => item.trim())) {
    if (!listed.some((item) => item.toLowerCase() === value.toLowerCase())) listed.push(value);
  }
  return listed.join(", ");
}
