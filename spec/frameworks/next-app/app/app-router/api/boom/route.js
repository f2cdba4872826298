import { guarded } from "../../../../lib/fetch-sessions";
import { SessionError } from "../../../../lib/sessions";

// A SessionError thrown in a guarded route handler: latchkey's 503 body, never Next's 500.
export const GET = guarded(() => {
  throw new SessionError("STORE_UNAVAILABLE");
});
