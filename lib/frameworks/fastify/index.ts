/**
 * `latchkey/fastify`: latchkey as a Fastify plugin. `Session`, `SessionError`, the claims and
 * the option types come from "latchkey" itself.
 *
 * @example
 * ```ts
 * import { fastifySessions, verifySession } from "latchkey/fastify";
 * const sessions = fastifySessions();
 * await app.register(sessions);
 * app.get("/api/me", { preHandler: verifySession() }, async (request) => ({ userId: request.session!.userId }));
 * ```
 *
 * @packageDocumentation
 */
import "./types";

export { fastifySessions } from "./plugin";
export type { FastifySessions } from "./plugin";
export { verifySession } from "./verify";
export type { FastifySessionSlot } from "./types";
