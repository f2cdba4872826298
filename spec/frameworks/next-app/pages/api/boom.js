import { SessionError, sessions } from "../../lib/sessions";

// A SessionError thrown in a guarded route: latchkey's 503 body, never Next's 500.
export default sessions.withSession(() => {
  throw new SessionError("STORE_UNAVAILABLE");
});
