import type { ClientInfo } from "../hooks";
import type { SessionSink } from "../session";
import type { TransferMode } from "./credentials";
import { clientOf } from "./respond";
import type { Runtime } from "./runtime";
import type { HttpRequest, HttpResponse } from "./seam";

/**
 * Delivers a session's re-signed access token on the response, the way the request's
 * credential came: a cookie for a cookie, a header for a bearer token (never a header
 * for a cookie-authenticated request, whatever `st-auth-mode` says).
 */
class ResponseSink implements SessionSink {
  readonly #runtime: Runtime;
  readonly #req: HttpRequest;
  readonly #res: HttpResponse;
  readonly #mode: TransferMode;
  #client: ClientInfo | undefined;

  constructor(runtime: Runtime, req: HttpRequest, res: HttpResponse, mode: TransferMode) {
    this.#runtime = runtime;
    this.#req = req;
    this.#res = res;
    this.#mode = mode;
  }

  accessTokenChanged(...[accessToken, claims, lifetime]: Parameters<SessionSink["accessTokenChanged"]>): void {
    if (this.#res.headersSent()) {
      throw new Error("latchkey: the access token changed after the response was sent; change the session before sending it.");
    }
    this.#runtime.transfer.setAccessToken(this.#req, this.#res, this.#mode, accessToken, claims, lifetime);
  }

  client(): ClientInfo {
    return (this.#client ??= clientOf(this.#req));
  }

  cleared(): void {
    if (!this.#res.headersSent()) this.#runtime.transfer.clearTokens(this.#req, this.#res, this.#mode);
  }
}

export function responseSink(runtime: Runtime, req: HttpRequest, res: HttpResponse, mode: TransferMode): SessionSink {
  return new ResponseSink(runtime, req, res, mode);
}
