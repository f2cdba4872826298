/**
 * `latchkey/next`: latchkey for the Next.js pages router (`pages/api/…`). App Router route
 * handlers take WHATWG requests: they use `latchkey/fetch`.
 *
 * @example
 * ```ts
 * import { nextSessions } from "latchkey/next";
 * export const sessions = nextSessions(); // pages/api/auth/[...path].ts: export default sessions.apiHandler
 * ```
 *
 * @packageDocumentation
 */
export { nextSessions } from "./sessions";
export type { NextSessions, NextSessionsOptions } from "./sessions";
export type { ApiHandler, ApiRequest, ApiResponse, OptionalSessionApiRequest, SessionApiRequest } from "./types";
