import type { CreateSessionOptions } from "../../http/options";
import type { Session } from "../../session";

// Module augmentation: what the plugin adds to Hapi's own types. Only a program that
// imports latchkey/hapi (and so has @hapi/hapi) sees it.
declare module "@hapi/hapi" {
  interface AuthCredentials {
    /**
     * The request's latchkey session, on a route guarded by a `"latchkey"` strategy
     * (`auth: "session"`); `undefined` for an anonymous request on a strategy with
     * `sessionRequired: false`.
     */
    session?: Session | undefined;
  }

  interface ResponseToolkit {
    /**
     * Creates a session for `userId`: one row in the store, then the token cookies (or
     * headers) and `front-token` on whatever response this route returns. Rejects with a
     * `SessionError` (`STORE_UNAVAILABLE`, or `CROSS_ORIGIN_REQUEST` for a cross-origin
     * login) and sets nothing if the session cannot be created.
     */
    createSession(userId: string, options?: CreateSessionOptions): Promise<Session>;
  }
}
