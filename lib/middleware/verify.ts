import type { NextFunction, Request, RequestHandler, Response } from "express";
import { csrfFailure } from "../csrf";
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
  /**
   * Run the CSRF check (the `antiCsrf` option) for cookie-authenticated unsafe methods.
   * Set `false` only on a route with its own defence.
   * @default true unless the middleware's antiCsrf is "none"
   */
  antiCsrfCheck?: boolean;
}

interface Checked {
  sessionRequired: boolean;
  checkDatabase: boolean;
  antiCsrfCheck: boolean;
}

const OPTION_NAMES = ["sessionRequired", "checkDatabase", "antiCsrfCheck"] as const;

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
        return refuse(runtime, req, res, next, error);
      }
      return next();
    }
    establish(runtime, req, res, checked).then(
      () => next(),
      (error: unknown) => refuse(runtime, req, res, next, error),
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

// A request that carried no token gets its 401 without Set-Cookie: clearing cookies it
// never sent could wipe a session a parallel login has just set (supertokens-node#17).
function refuse(runtime: Runtime, req: Request, res: Response, next: NextFunction, error: unknown): void {
  const found = runtime.transfer.readAccessToken(req);
  if (found === undefined && error instanceof SessionError && error.status === 401) {
    res.status(401).json(error.toBody());
    return;
  }
  sendSessionError(runtime, req, res, next, error, runtime.transfer.responseMode(req, found?.mode));
}

function resolveSession(runtime: Runtime, req: Request, res: Response, options: Checked): Session | undefined {
  const found = runtime.transfer.readAccessToken(req);
  if (found === undefined) {
    if (options.sessionRequired) throw new SessionError("UNAUTHORISED", "no access token");
    return undefined;
  }
  if (found.mode === "cookie") {
    // Two access cookies (a cookieDomain change) cannot be told apart here; the refresh
    // that this answer triggers clears the stale one.
    if (found.duplicated) throw new SessionError("TRY_REFRESH_TOKEN", "two access-token cookies");
    // "try refresh token" is what the frontend SDK expects for a failed CSRF check.
    if (options.antiCsrfCheck && csrfFailure(req, runtime.manager.options)) throw new SessionError("TRY_REFRESH_TOKEN", "CSRF check failed");
  }
  let session: Session;
  try {
    session = new Session(runtime, runtime.manager.verify(found.token), req, res, runtime.transfer.responseMode(req, found.mode));
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
    if (!(OPTION_NAMES as readonly string[]).includes(name)) {
      throw new TypeError(`latchkey: unknown verifySession option ${name}. Known: ${OPTION_NAMES.join(", ")}.`);
    }
  }
  for (const name of OPTION_NAMES) {
    if (input[name] !== undefined && typeof input[name] !== "boolean") {
      throw new TypeError(`latchkey: verifySession option ${name} must be true or false (got ${typeof input[name]}).`);
    }
  }
  return {
    sessionRequired: input.sessionRequired ?? true,
    checkDatabase: input.checkDatabase ?? false,
    antiCsrfCheck: input.antiCsrfCheck ?? true,
  };
}

/** Catches `app.use(verifySession)`: Express would pass a request where options belong. */
export function isRequest(value: unknown): boolean {
  return typeof value === "object" && value !== null && "headers" in value && "method" in value;
}
