import type {} from "fastify";
import type { CreateSessionOptions } from "../../http/options";
import type { Session } from "../../session";
import type { SessionProperty } from "../../types/config";

/**
 * The request field latchkey adds: `request.session` (or your `sessionProperty`), `null`
 * until a session is verified or created. Fastify's `FastifyRequest` extends it.
 *
 * @example
 * ```ts
 * function userIdOf(request: FastifySessionSlot): string | undefined {
 *   return request.session?.userId;
 * }
 * ```
 */
export type FastifySessionSlot = { [Name in SessionProperty]: Session | null };

// Module augmentation, loaded by the subpath's index: the session on Fastify's request
// (through a slot that follows TypeConfig, so @fastify/session's request.session can live
// beside it with sessionProperty: "latchkey"), and reply.createSession.
declare module "fastify" {
  // eslint-disable-next-line @typescript-eslint/no-empty-interface
  interface FastifyRequest extends FastifySessionSlot {}
  interface FastifyReply {
    /**
     * Creates a session for `userId`: one row in the store, then the token cookies (or
     * headers) and `front-token` on this reply. Call it before sending the reply. Rejects
     * with a `SessionError` (`STORE_UNAVAILABLE`, or `CROSS_ORIGIN_REQUEST` for a
     * cross-origin login), having set nothing, if the session cannot be created.
     */
    createSession(userId: string, options?: CreateSessionOptions): Promise<Session>;
  }
}
