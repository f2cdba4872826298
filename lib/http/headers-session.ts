import { SessionError } from "../errors";
import type { Session } from "../session";
import { BufferedResponse } from "./buffered";
import { originFailure, reportCsrfFailure } from "./csrf";
import { FieldsRequest, nodeHeaders } from "./fields-request";
import { verifyPolicy, type HeadersSessionOptions } from "./options";
import type { Runtime } from "./runtime";
import { verifyRequest } from "./verify";

/**
 * `getSessionFromHeaders`: the session of a request known only by its headers — a
 * WebSocket upgrade, server-sent events, a GraphQL subscription. The access token is read
 * exactly as `verifySession` reads it (prefixed cookie names, duplicates refused, a bearer
 * only when it is latchkey's), and a cross-site `Origin` is refused whatever the method:
 * a page on any site can open a WebSocket to the API with the victim's cookies (cross-site
 * WebSocket hijacking), and a browser's handshake cannot carry a custom header.
 */
export async function sessionFromHeaders(
  runtime: Runtime,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  options: HeadersSessionOptions = {},
): Promise<Session | undefined> {
  const { secure, ip, ...verify } = options;
  const policy = verifyPolicy(verify, "getSessionFromHeaders");
  const { manager } = runtime;
  const header = nodeHeaders(headers);
  const request = new FieldsRequest({
    method: "GET",
    path: "(headers)",
    header,
    ip,
    // Cookie names follow the connection's scheme, which headers alone cannot tell. In
    // production the names are prefixed whatever this says; elsewhere a __Host- cookie
    // proves an https page set it (browsers refuse it otherwise).
    secure: secure ?? header("cookie")?.includes("__Host-") ?? false,
  });
  if (policy.antiCsrfCheck && manager.options.antiCsrf !== "none") {
    const failure = originFailure(request, manager.options);
    if (failure !== undefined) {
      reportCsrfFailure(manager.diagnostics, request, failure);
      throw new SessionError("CROSS_ORIGIN_REQUEST", `refused a request known by its headers: ${failure}`);
    }
  }
  // No response to write to: a re-signed token (a claim refetched) stays on the session,
  // for getAllSessionTokensDangerously().
  return verifyRequest(runtime, request, new BufferedResponse(), policy);
}
