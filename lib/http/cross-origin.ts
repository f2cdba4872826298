import { resolveOptions, type ResolvedOptions } from "../options/resolve";
import type { SessionMiddlewareOptions } from "../options/contract";
import { memoryStore } from "../store/select";
import { csrfFailure } from "./csrf";
import { FieldsRequest, nodeHeaders } from "./fields-request";

/** What {@link isCrossOriginRequest} reads of a request: a WHATWG `Request`, or Node's `IncomingMessage`. */
export type CrossOriginCandidate =
  | { method: string; headers: { get(name: string): string | null } }
  | { method?: string; headers: Readonly<Record<string, string | string[] | undefined>> };

/** The options the CSRF decision reads (the same names as the middleware's). */
export type CrossOriginOptions = Pick<SessionMiddlewareOptions, "trustedOrigins" | "antiCsrf" | "cookieSameSite">;

// Options are checked once per options object, as a factory would: resolving them on every
// request would re-validate every trusted origin each time.
const resolved = new WeakMap<object, ResolvedOptions>();
const DEFAULTS: CrossOriginOptions = {};

/**
 * latchkey's CSRF decision for hand-written glue: `true` when an unsafe request carrying
 * cookies must be refused — a foreign `Origin` (neither the request's own host nor in
 * `trustedOrigins`), a browser's `Sec-Fetch-Site: cross-site` without one, or (with
 * `cookieSameSite: "none"` or `antiCsrf: "custom-header"`) no `rid` header. Safe methods
 * (GET, HEAD, OPTIONS) are never cross-origin requests here. The adapters run this check
 * themselves; use it only where none fits.
 *
 * @example
 * ```ts
 * if (isCrossOriginRequest(request, { trustedOrigins: ["https://app.example.com"] })) {
 *   return new Response(JSON.stringify({ message: "try refresh token" }), { status: 401 });
 * }
 * ```
 */
export function isCrossOriginRequest(request: CrossOriginCandidate, options: CrossOriginOptions = DEFAULTS): boolean {
  let checked = resolved.get(options);
  if (checked === undefined) {
    // Only the CSRF options matter; a memory store keeps resolution from reading the environment's database.
    const cookieSecure = options.cookieSameSite === "none" ? true : undefined; // what SameSite=None requires of the middleware
    checked = resolveOptions({ ...options, cookieSecure, store: memoryStore(), logger: false });
    resolved.set(options, checked);
  }
  const header = "get" in request.headers && typeof request.headers.get === "function"
    ? (name: string) => (request.headers as { get(name: string): string | null }).get(name) ?? undefined
    : nodeHeaders(request.headers as Readonly<Record<string, string | string[] | undefined>>);
  const fields = new FieldsRequest({ method: request.method ?? "GET", path: "", header, secure: false });
  return csrfFailure(fields, checked) !== undefined;
}
