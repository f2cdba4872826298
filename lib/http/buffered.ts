import { serializeClearedCookie, serializeCookie } from "./set-cookie";
import type { CookieAttributes, HttpResponse } from "./seam";

/**
 * A response the core writes into and an adapter copies out of: for frameworks whose
 * response is a value (a Lambda result, a WHATWG `Response`, a Hapi response object) or
 * whose own API must set it (Koa's `ctx`, Fastify's `reply`), rather than a Node
 * `ServerResponse` written in place. Headers keep their first-set name; `Set-Cookie`
 * lines stay separate (joining them with commas would lose a cookie: Expires has one).
 */
export class BufferedResponse implements HttpResponse {
  status: number | undefined;
  body: unknown;
  readonly #headers = new Map<string, { name: string; values: string[] }>();
  #sent = false;

  /** `initial`: what the framework's response already carries (CORS headers, say), read by `getHeader`. */
  constructor(readonly initial?: (name: string) => string | string[] | number | undefined) {}

  headersSent(): boolean {
    return this.#sent;
  }

  getHeader(name: string): string | string[] | number | undefined {
    const own = this.#headers.get(name.toLowerCase());
    if (own) return own.values.length === 1 ? own.values[0] : own.values;
    return this.initial?.(name);
  }

  setHeader(name: string, value: string): void {
    this.#headers.set(name.toLowerCase(), { name, values: [value] });
  }

  appendHeader(name: string, value: string): void {
    const entry = this.#headers.get(name.toLowerCase());
    if (entry) entry.values.push(value);
    else this.#headers.set(name.toLowerCase(), { name, values: [value] });
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
    this.setHeader("Content-Type", "application/json; charset=utf-8");
    this.#sent = true;
  }

  /** Whether the core answered the request itself (a refusal, an endpoint). */
  get answered(): boolean {
    return this.#sent;
  }

  /** Every header set, by the name it was first set with; `Set-Cookie` (and any repeated header) as separate lines. */
  headers(): Array<[name: string, values: string[]]> {
    return [...this.#headers.values()].map(({ name, values }) => [name, values]);
  }

  /** The `Set-Cookie` lines, in the order they were set. */
  cookies(): string[] {
    return this.#headers.get("set-cookie")?.values ?? [];
  }

  /** Forgets every header and the answer: a framework that discards the response on an error discards what latchkey set too. */
  reset(): void {
    this.#headers.clear();
    this.#sent = false;
    this.status = undefined;
    this.body = undefined;
  }
}
