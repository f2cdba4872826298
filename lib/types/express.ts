import type { CreateSessionOptions } from "../middleware/session";
import type { Session } from "../session";

// Module augmentation: `req.session` and `res.createSession` on Express's own types.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `verifySession()`, `getSession()` and `res.createSession()`. */
      session?: Session;
    }
    interface Response {
      /**
       * Creates a session for `userId`: one row in the store, then the token cookies and
       * `front-token` on this response. Call it before sending the response. Rejects with
       * a `SessionError` (`STORE_UNAVAILABLE`) and sets nothing if the row cannot be written.
       */
      createSession(userId: string, options?: CreateSessionOptions): Promise<Session>;
    }
  }
}

export {};
