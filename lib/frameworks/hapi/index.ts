/**
 * `latchkey/hapi`: latchkey as a Hapi plugin and auth scheme. `Session`, `SessionError`, the
 * claims and the option types come from "latchkey" itself.
 *
 * @example
 * ```ts
 * import { hapiSessions } from "latchkey/hapi";
 * const sessions = hapiSessions();
 * await server.register(sessions.plugin);
 * server.auth.strategy("session", "latchkey");
 * server.route({ method: "GET", path: "/api/me", options: { auth: "session" }, handler: (request) => ({ userId: request.auth.credentials.session!.userId }) });
 * ```
 *
 * @packageDocumentation
 */
import "./types";

export { hapiSessions } from "./plugin";
export type { HapiSessions } from "./plugin";
