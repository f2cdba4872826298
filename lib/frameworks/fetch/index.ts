/**
 * `latchkey/fetch`: latchkey on the WHATWG `Request`/`Response`/`Headers` of Node 20 and every
 * fetch-style runtime — Hono, Bun, Deno, Next.js App Router route handlers.
 *
 * @example
 * ```ts
 * import { fetchSessions } from "latchkey/fetch";
 * const sessions = fetchSessions();
 * const answered = await sessions.handle(request); // refresh, sign-out, JWKS; undefined otherwise
 * ```
 *
 * @packageDocumentation
 */
export { fetchSessions } from "./sessions";
export type { ClientAddress, FetchCreateSessionOptions, FetchGetSessionOptions, FetchSessions } from "./sessions";
