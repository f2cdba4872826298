import type { Request, ResponseObject } from "@hapi/hapi";
import { BufferedResponse } from "../../http/buffered";
import { FieldsRequest, nodeHeaders } from "../../http/fields-request";
import type { Session } from "../../session";

/**
 * One request's side of the seam, kept in `request.plugins.latchkey` so that the auth
 * scheme, `h.createSession`, the endpoints and the `onPreResponse` extension share it. The
 * core writes headers and cookies into a {@link BufferedResponse}, because a Hapi route
 * returns its response as a value: `onPreResponse` copies them onto whatever it returned.
 */
export interface HapiExchange {
  readonly req: FieldsRequest;
  readonly res: BufferedResponse;
  session: Session | undefined;
}

type WithExchange = { latchkey?: HapiExchange };

/**
 * The request's exchange, made on first use. Hapi has no trust-proxy setting, so the IP is
 * the socket's peer and `secure` is the server's own protocol: honouring `X-Forwarded-For`
 * or `X-Forwarded-Proto` is the app's choice to make (see docs/frameworks/hapi.md).
 */
export function exchangeOf(request: Request): HapiExchange {
  const plugins = request.plugins as WithExchange;
  if (plugins.latchkey) return plugins.latchkey;
  const exchange: HapiExchange = {
    req: new FieldsRequest({
      method: request.method,
      path: request.path,
      header: nodeHeaders(request.headers as Record<string, string | string[] | undefined>),
      ip: request.info.remoteAddress || undefined,
      secure: request.server.info.protocol === "https",
      setSession: (session) => {
        exchange.session = session;
      },
    }),
    res: new BufferedResponse(),
    session: undefined,
  };
  plugins.latchkey = exchange;
  return exchange;
}

/** The exchange of a request latchkey has seen, else `undefined` (nothing to copy). */
export function findExchange(request: Request): HapiExchange | undefined {
  return (request.plugins as WithExchange).latchkey;
}

/** The shape of a Boom error's answer, as far as latchkey touches it. */
export interface BoomOutput {
  output: { statusCode: number; headers: Record<string, string | string[] | number | undefined> };
}

/**
 * Copies what the core set onto the response the route returned (then forgets it, so nothing
 * is copied twice). `Set-Cookie` lines are appended one by one, never joined; the exposed
 * headers are added to any the route (or Hapi's CORS) lists; any other header of latchkey's
 * replaces the route's (a token response must stay `Cache-Control: no-store`).
 */
export function copyHeaders(buffered: BufferedResponse, response: ResponseObject): void {
  for (const [name, values] of buffered.headers()) {
    const lower = name.toLowerCase();
    for (const value of values) {
      if (lower === "set-cookie") response.header(name, value, { append: true });
      else if (lower === "access-control-expose-headers") response.header(name, value, { append: true, separator: ", ", duplicate: false });
      else response.header(name, value);
    }
  }
  buffered.reset();
}

/** The same for a Boom error, whose answer's headers are `output.headers` (Hapi sends them as they are). */
export function copyHeadersToBoom(buffered: BufferedResponse, error: BoomOutput): void {
  const headers = error.output.headers;
  for (const [name, values] of buffered.headers()) {
    if (name.toLowerCase() === "set-cookie") {
      const existing = headers[name] ?? headers["set-cookie"];
      const lines = existing === undefined ? [] : Array.isArray(existing) ? existing : [String(existing)];
      delete headers["set-cookie"];
      headers[name] = [...lines, ...values];
    } else {
      headers[name] = values.length === 1 ? values[0] : values.join(", ");
    }
  }
  buffered.reset();
}
