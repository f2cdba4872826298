import type { Diagnostics } from "../../logger";
import { FieldsRequest } from "../../http/fields-request";
import type { HttpRequest, HttpResponse } from "../../http/seam";
import { serializeClearedCookie, serializeCookie } from "../../http/set-cookie";
import type { CookieAttributes } from "../../http/seam";

/**
 * A WHATWG `Request` as the HTTP core's seam. A `Request` knows neither the client's
 * address nor a proxy: the IP is the caller's to give (`{ ip }`), and "secure" is the
 * scheme of `request.url` — what the server or platform built it from (Hono's Node server
 * and Next.js from the socket, Deno and Bun from their listener, an edge platform from the
 * client's own connection).
 */
export function fetchRequest(request: Request, ip: string | undefined): HttpRequest {
  const url = new URL(request.url);
  const { headers } = request;
  return new FieldsRequest({
    method: request.method,
    path: url.pathname,
    // Some platforms leave Host out of a Request's headers; the URL was built from it.
    header: (name) => headers.get(name) ?? (name === "host" ? url.host : undefined),
    ip,
    secure: url.protocol === "https:",
  });
}

/**
 * An HTTP response written into a WHATWG `Headers` the caller sends: set-once headers with
 * `set`, each cookie its own `Set-Cookie` line with `append` (`headers.getSetCookie()` keeps
 * them apart). The core's answer (a refusal, an endpoint) is kept as `status` and `body`.
 */
export class HeadersResponse implements HttpResponse {
  status = 200;
  body: unknown;
  #sent = false;

  /** `detached`: the caller gave no `Headers`, so a write is lost; told once through `diagnostics`. */
  constructor(
    readonly headers: Headers,
    readonly detached?: Diagnostics,
  ) {}

  headersSent(): boolean {
    return this.#sent;
  }

  getHeader(name: string): string | undefined {
    return this.headers.get(name) ?? undefined;
  }

  setHeader(name: string, value: string): void {
    this.#lost();
    this.headers.set(name, value);
  }

  appendHeader(name: string, value: string): void {
    this.#lost();
    this.headers.append(name, value);
  }

  setCookie(name: string, value: string, attributes: CookieAttributes): void {
    this.appendHeader("Set-Cookie", serializeCookie(name, value, attributes));
  }

  clearCookie(name: string, attributes: CookieAttributes): void {
    this.appendHeader("Set-Cookie", serializeClearedCookie(name, attributes));
  }

  sendJson(status: number, body: unknown): void {
    this.status = status;
    this.body = body;
    this.headers.set("Content-Type", "application/json; charset=utf-8");
    this.#sent = true;
  }

  /** The core's answer as a `Response`. */
  toResponse(): Response {
    return new Response(JSON.stringify(this.body), { status: this.status, headers: this.headers });
  }

  // A re-signed access token (a refetched claim, mergeIntoAccessTokenPayload) that no
  // response will carry: the session still works, but the frontend keeps the old token
  // until its next refresh, and a stale claim is fetched again on every request till then.
  #lost(): void {
    this.detached?.warnOnce(
      "fetch:headers",
      "the access token was re-signed (a claim was refetched, or mergeIntoAccessTokenPayload ran) but getSession was given no headers " +
        "to put it on: pass getSession(request, { headers }) and send those headers with your Response. (Warned once.)",
    );
  }
}
