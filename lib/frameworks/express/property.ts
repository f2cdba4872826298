import type { Request } from "express";
import { Session } from "../../session";

/**
 * Where latchkey's session lives on the request: `req.session`, or the `sessionProperty`
 * chosen to run beside express-session or passport, which own `req.session`. Writing over
 * their object would break them at the end of the request (express-session calls
 * `req.session.touch()`, and the response then never ends), so a clash fails at once,
 * naming the fix.
 */
export function claimProperty(req: Request, property: string): void {
  const current = (req as unknown as Record<string, unknown>)[property];
  if (current === undefined || current === null || current instanceof Session) return;
  throw new TypeError(
    `latchkey: req.${property} is already set by another middleware (express-session or passport?), so latchkey's session cannot live there. ` +
      `Run them side by side: sessionMiddleware({ sessionProperty: "latchkey" }) puts latchkey's session in req.latchkey ` +
      `(and for TypeScript: declare module "latchkey" { interface TypeConfig { sessionProperty: "latchkey" } }).`,
  );
}

export function setSession(req: Request, property: string, session: Session): void {
  claimProperty(req, property);
  (req as unknown as Record<string, unknown>)[property] = session;
}

export function sessionOf(req: Request, property: string): Session | undefined {
  const value = (req as unknown as Record<string, unknown>)[property];
  return value instanceof Session ? value : undefined;
}
