import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { nodeHeaders } from "../../http/fields-request";
import type { Runtime } from "../../http/runtime";
import type { CookieAttributes, HttpRequest, HttpResponse } from "../../http/seam";
import { serializeClearedCookie, serializeCookie } from "../../http/set-cookie";
import type { Session } from "../../session";

/**
 * A Next.js API route's `req`/`res` (Node's `IncomingMessage`/`ServerResponse` with Next's
 * helpers) as the HTTP core's seam, written through Node's own API so that it works the
 * same under `next start`, a custom server and `next dev`. The cookies are parsed from the
 * raw Cookie header (Next's `req.cookies` keeps one value per name, and latchkey must see
 * duplicates). The client and the scheme are the socket's: Next fills `X-Forwarded-*` in
 * itself from whatever the client sent, so they count only with `trustProxy`.
 */
export class NextExchange implements HttpRequest, HttpResponse {
  readonly method: string;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #runtime: Runtime;
  readonly #trustProxy: boolean;
  readonly #header: (name: string) => string | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, runtime: Runtime, trustProxy: boolean) {
    this.method = (req.method ?? "GET").toUpperCase();
    this.#req = req;
    this.#res = res;
    this.#runtime = runtime;
    this.#trustProxy = trustProxy;
    this.#header = nodeHeaders(req.headers);
  }

  path(): string {
    const url = this.#req.url ?? "/";
    const query = url.indexOf("?");
    return query === -1 ? url : url.slice(0, query);
  }

  header(name: string): string | undefined {
    return this.#header(name);
  }

  parsedCookies(): undefined {
    return undefined;
  }

  secure(): boolean {
    if ((this.#req.socket as TLSSocket | undefined)?.encrypted === true) return true;
    return this.#trustProxy && this.#forwarded("x-forwarded-proto") === "https";
  }

  forwardedHost(): string | undefined {
    return this.#trustProxy ? this.#forwarded("x-forwarded-host") : undefined;
  }

  ip(): string | undefined {
    return (this.#trustProxy ? this.#forwarded("x-forwarded-for") : undefined) ?? this.#req.socket?.remoteAddress;
  }

  setSession(session: Session): void {
    (this.#req as unknown as Record<string, unknown>)[this.#runtime.manager.options.sessionProperty] = session;
  }

  headersSent(): boolean {
    return this.#res.headersSent;
  }

  getHeader(name: string): string | string[] | number | undefined {
    return this.#res.getHeader(name);
  }

  setHeader(name: string, value: string): void {
    this.#res.setHeader(name, value);
  }

  appendHeader(name: string, value: string): void {
    this.#res.appendHeader(name, value);
  }

  setCookie(name: string, value: string, attributes: CookieAttributes): void {
    this.#res.appendHeader("Set-Cookie", serializeCookie(name, value, attributes));
  }

  clearCookie(name: string, attributes: CookieAttributes): void {
    this.#res.appendHeader("Set-Cookie", serializeClearedCookie(name, attributes));
  }

  sendJson(status: number, body: unknown): void {
    this.#res.statusCode = status;
    this.#res.setHeader("Content-Type", "application/json; charset=utf-8");
    this.#res.end(JSON.stringify(body));
  }

  // The client's end of a proxy chain, as Express's `trust proxy: true` takes it: the first entry.
  #forwarded(name: string): string | undefined {
    return this.#header(name)?.split(",")[0]?.trim() || undefined;
  }
}
