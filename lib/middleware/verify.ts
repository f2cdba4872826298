import type { NextFunction, Request, RequestHandler, Response } from "express";
import { SessionError } from "../errors";
import { runtimeOf, type Runtime } from "../runtime";
import { Session } from "../session";
import { sendSessionError } from "./respond";

/** Options of {@link verifySession} and {@link getSession}. */
export interface VerifySessionOptions {
  /**
   * When `false`, a request without a (valid) access token passes with `req.session`
   * unset. An expired token still answers 401 "try refresh token", so a signed-in user
   * is refreshed rather than treated as anonymous.
   * @default true
   */
  sessionRequired?: boolean;
  /**
   * Also confirm that the session row is live: zero-lag revocation for sensitive routes,
   * at one primary-key read per request.
   * @default false
   */
  checkDatabase?: boolean;
}

interface Checked {
  sessionRequired: boolean;
  checkDatabase: boolean;
}

/**
 * Guards a route: sets `req.session` or answers 401 itself. Verification is a signature
 * check against keys in memory: no database query unless `checkDatabase` is set.
 *
 * @example
 * ```ts
 * app.get("/api/me", verifySession(), (req, res) => res.json({ userId: req.session!.userId }));
 * app.post("/api/transfer", verifySession({ checkDatabase: true }), transfer);
 * ```
 */
export function verifySession(options?: VerifySessionOptions): RequestHandler {
  if (isRequest(options)) {
    throw new TypeError("latchkey: verifySession is a factory. Write verifySession(), not verifySession, in your route.");
  }
  const checked = checkOptions(options);
  return function latchkeyVerifySession(req: Request, res: Response, next: NextFunction): void {
    if (req.method === "OPTIONS") return next();
    let runtime: Runtime;
    try {
      runtime = runtimeOf(req);
    } catch (error) {
      return next(error);
    }
    // Fast path: keys in memory, no database check, no promise.
    if (runtime.manager.keys.ready && !checked.checkDatabase) {
      try {
        resolveSession(runtime, req, res, checked);
      } catch (error) {
        return sendSessionError(runtime, req, res, next, error);
      }
      return next();
    }
    establish(runtime, req, res, checked).then(
      () => next(),
      (error: unknown) => sendSessionError(runtime, req, res, next, error),
    );
  };
}

/**
 * The programmatic form of {@link verifySession}: resolves to the request's session
 * (also set as `req.session`), to `undefined` for an anonymous request when
 * `sessionRequired` is `false`, or rejects with a {@link SessionError}.
 */
export async function getSession(req: Request, res: Response, options?: VerifySessionOptions): Promise<Session | undefined> {
  const checked = checkOptions(options);
  await establish(runtimeOf(req), req, res, checked);
  return req.session;
}

async function establish(runtime: Runtime, req: Request, res: Response, options: Checked): Promise<void> {
  if (!runtime.manager.keys.ready) await runtime.manager.ready();
  const session = resolveSession(runtime, req, res, options);
  if (session && options.checkDatabase) await runtime.manager.assertLive(session.handle);
}

function resolveSession(runtime: Runtime, req: Request, res: Response, options: Checked): Session | undefined {
  const token = runtime.transfer.readAccessToken(req);
  if (token === undefined) {
    if (options.sessionRequired) throw new SessionError("UNAUTHORISED", "no access token");
    return undefined;
  }
  let session: Session;
  try {
    session = new Session(runtime, runtime.manager.verify(token), req, res);
  } catch (error) {
    // An optional session ignores a bad token, but not an expired one: refreshing it
    // is how a signed-in user stays signed in.
    if (!options.sessionRequired && error instanceof SessionError && error.code === "UNAUTHORISED") return undefined;
    throw error;
  }
  req.session = session;
  return session;
}

function checkOptions(options: VerifySessionOptions | undefined): Checked {
  const input = options ?? {};
  if (typeof input !== "object" || input === null) {
    throw new TypeError(`latchkey: verifySession options must be an object (got ${typeof input}).`);
  }
  for (const name of Object.keys(input)) {
    if (name !== "sessionRequired" && name !== "checkDatabase") {
      throw new TypeError(`latchkey: unknown verifySession option ${name}. Known: sessionRequired, checkDatabase.`);
    }
  }
  for (const name of ["sessionRequired", "checkDatabase"] as const) {
    if (input[name] !== undefined && typeof input[name] !== "boolean") {
      throw new TypeError(`latchkey: verifySession option ${name} must be true or false (got ${typeof input[name]}).`);
    }
  }
  return { sessionRequired: input.sessionRequired ?? true, checkDatabase: input.checkDatabase ?? false };
}

/** Catches `app.use(verifySession)`: Express would pass a request where options belong. */
export function isRequest(value: unknown): boolean {
  return typeof value === "object" && value !== null && "headers" in value && "method" in value;
}
