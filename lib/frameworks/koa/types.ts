import type {} from "koa";
import type { CreateSessionOptions } from "../../http/options";
import type { Session } from "../../session";

// Module augmentation, loaded by the subpath's index: the session on Koa's ctx.state (set by
// verifySession and createSession), and ctx.createSession (added by koaSessions).
declare module "koa" {
  interface DefaultState {
    /** The request's session, set by `verifySession()` or `ctx.createSession`; absent for an anonymous request. */
    session?: Session;
  }
  interface DefaultContext {
    /**
     * Creates a session for `userId`: one row in the store, then the token cookies (or
     * headers) and `front-token` on this response. Call it before the response is sent.
     * Rejects with a `SessionError` (`STORE_UNAVAILABLE`, or `CROSS_ORIGIN_REQUEST` for a
     * cross-origin login), having set nothing, if the session cannot be created.
     */
    createSession(userId: string, options?: CreateSessionOptions): Promise<Session>;
  }
}
