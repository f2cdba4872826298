import type { Request } from "express";
import type { TokenTransfer } from "./cookies";
import type { SessionManager } from "./manager";

/** What one `sessionMiddleware()` instance shares with `verifySession()` and `req.session`. */
export interface Runtime {
  manager: SessionManager;
  transfer: TokenTransfer;
}

const RUNTIME = Symbol("latchkey.runtime");

type WithRuntime = Request & { [RUNTIME]?: Runtime };

export function attachRuntime(req: Request, runtime: Runtime): void {
  (req as WithRuntime)[RUNTIME] = runtime;
}

/** The runtime of the `sessionMiddleware()` this request passed through. */
export function runtimeOf(req: Request): Runtime {
  const runtime = (req as WithRuntime)[RUNTIME];
  if (!runtime) {
    throw new Error(
      "latchkey: this request did not pass through sessionMiddleware(). Add app.use(sessionMiddleware()) before your routes " +
        "(at the application root: app.use(sessions), not app.use(\"/api\", sessions)).",
    );
  }
  return runtime;
}
