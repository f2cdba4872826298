import { SessionError } from "../errors";
import { Session } from "../session";
import { revokeSession } from "../sessions/admin";
import { createSession, reauthenticate } from "../sessions/create";
import { identify } from "../sessions/verification";
import { checkUserId } from "../validate";
import { readAccessToken, requestedMode, type TransferMode } from "./credentials";
import { csrfFailure, reportCsrfFailure } from "./csrf";
import { checkCreateOptions, type CreateSessionOptions } from "./options";
import { clientOf } from "./respond";
import type { Runtime } from "./runtime";
import type { HttpRequest, HttpResponse } from "./seam";
import { responseSink } from "./sink";

/**
 * Creates a session and puts its tokens on the response. The session a request carries is
 * ended first (ASVS 5.0 7.2.4) — or, with `reauthenticate`, renewed in place — and the new
 * tokens travel the way that credential came; a request without one chooses by
 * `st-auth-mode`. Rejects, having set nothing, when the session cannot be created.
 */
export async function createSessionOnResponse(
  runtime: Runtime,
  req: HttpRequest,
  res: HttpResponse,
  userId: string,
  options: CreateSessionOptions = {},
): Promise<Session> {
  if (res.headersSent()) throw new Error("latchkey: createSession must run before the response is sent.");
  checkUserId(userId);
  checkCreateOptions(options);
  const { manager, transfer } = runtime;
  const carried = readAccessToken(req, transfer.names(req), manager.keys);
  const mode = carried?.mode ?? requestedMode(req);
  if (mode === "cookie" && options.csrfCheck !== false) {
    const failure = csrfFailure(req, manager.options);
    if (failure !== undefined) {
      reportCsrfFailure(manager.diagnostics, req, failure);
      throw new SessionError("CROSS_ORIGIN_REQUEST", `login refused: ${failure}`);
    }
  }
  if (!manager.isReady) await manager.ready();
  const client = clientOf(req);
  const previous = carried ? identify(manager, carried.token) : undefined;
  if (previous && options.reauthenticate && previous.sub === userId) {
    const renewed = await reauthenticate(manager, previous.sid, userId, options);
    if (renewed) {
      // A step-up moves the session onto a new lineage (RA1): both tokens are new.
      transfer.setTokens(req, res, mode, renewed, renewed.record);
      return place(runtime, req, res, mode, { claims: renewed.claims, accessToken: renewed.accessToken, refreshToken: renewed.refreshToken });
    }
  }
  if (previous) await revokeSession(manager, previous.sid, "re-login", client);
  const issued = await createSession(manager, userId, options, client);
  transfer.setTokens(req, res, mode, issued, issued.record);
  return place(runtime, req, res, mode, { claims: issued.claims, accessToken: issued.accessToken, refreshToken: issued.refreshToken });
}

function place(runtime: Runtime, req: HttpRequest, res: HttpResponse, mode: TransferMode, tokens: Parameters<typeof Session.open>[1]): Session {
  const session = Session.open(runtime.manager, tokens, responseSink(runtime, req, res, mode));
  req.setSession(session);
  return session;
}
