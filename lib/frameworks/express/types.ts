import type { CreateSessionOptions } from "../../http/options";
import type { Session } from "../../session";
import type { SessionProperty } from "../../types/config";

/** The request fields latchkey adds: `req.session` (or your `sessionProperty`), set by verifySession. */
export type SessionSlot = { [Name in SessionProperty]?: Session };

/** A request behind `verifySession()` (with `sessionRequired` true): its session is always there. */
export type SessionRequest<Req = import("express").Request> = Req & { [Name in SessionProperty]: Session };

// Module augmentation: the session on Express's Request (through an interface whose one
// property follows TypeConfig, so that with sessionProperty: "latchkey" nothing of
// latchkey's touches req.session and @types/express-session compiles beside it), and
// res.createSession on its Response.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-interface
    interface Request extends SessionSlot {}
    interface Response {
      /**
       * Creates a session for `userId`: one row in the store, then the token cookies (or
       * headers) and `front-token` on this response. Call it before sending the response.
       * Rejects with a `SessionError` (`STORE_UNAVAILABLE`, or `CROSS_ORIGIN_REQUEST` for a
       * cross-origin login) and sets nothing if the session cannot be created.
       */
      createSession(userId: string, options?: CreateSessionOptions): Promise<Session>;
    }
  }
}
