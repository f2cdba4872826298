import type { SessionClaimValidator } from "../../claims/claim";
import { SessionError, storeUnavailable } from "../../errors";
import { Session } from "../../session";
import { isLive } from "../../sessions/admin";
import { invalidClaim, staleClaims, validateClaims } from "../../sessions/claims";
import type { AccessClaims } from "../../tokens/access";
import { RESERVED_CLAIMS } from "../../tokens/reserved";
import { allCookieValues, readRefreshTokens, type AccessCredential, type TransferMode } from "../../http/credentials";
import { csrfFailure, reportCsrfFailure } from "../../http/csrf";
import type { VerifyPolicy } from "../../http/options";
import { clientOf, reportRefusal, sendSessionError } from "../../http/respond";
import type { Runtime } from "../../http/runtime";
import type { HttpRequest, HttpResponse } from "../../http/seam";
import { responseSink } from "../../http/sink";
import { isCoreAccessToken, UNKNOWN_CORE_KEY, verifyCoreAccessToken, type CoreAccess } from "./access-token";
import { refreshCoreSession } from "./migrate";
import { isCoreRefreshToken } from "./refresh-token";
import { coreMigration, type CoreMigration } from "./state";

/**
 * The HTTP core's hooks into the migration (DESIGN §7.3), framework-neutral like the core,
 * so every adapter migrates. The core's cookies keep their plain names (`sAccessToken`,
 * `sRefreshToken`) even where latchkey writes `__Host-`/`__Secure-` ones, so they are read
 * here by their plain names — but only a token of the core's shape: a plain-named latchkey
 * token stays ignored in production (a sibling subdomain could have planted it).
 */
const PLAIN_ACCESS = "sAccessToken";
const PLAIN_REFRESH = "sRefreshToken";
const BEARER = /^Bearer +(\S+) *$/i;
const MAX_AUTHORIZATION_LENGTH = 8192;
const SAFE_METHODS: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS"]);

/** A core access token the request carries (bearer, else a plain-named cookie) when the migration is on. */
export function readCoreAccessToken(runtime: Runtime, req: HttpRequest): AccessCredential | undefined {
  if (!runtime.manager.options.migrateFromSuperTokens) return undefined;
  const bearer = bearerValue(req);
  if (bearer !== undefined && isCoreAccessToken(bearer)) return { token: bearer, mode: "header", duplicated: false };
  const token = allCookieValues(req, PLAIN_ACCESS).find(isCoreAccessToken);
  return token === undefined ? undefined : { token, mode: "cookie", duplicated: false };
}

/** Whether a token the request carries is the core's, and the migration is on. */
export function isCoreCredential(runtime: Runtime, token: string): boolean {
  return runtime.manager.options.migrateFromSuperTokens !== undefined && isCoreAccessToken(token);
}

/**
 * The session of a request that carries a core access token. By default 401 "try refresh
 * token", with nothing cleared: the frontend refreshes with the core refresh token, and that
 * refresh migrates the session. With `acceptCoreAccessTokens`, the token is verified with the
 * core's public keys until it expires; nothing is written and no latchkey token is issued.
 */
export async function openCoreSession(
  runtime: Runtime,
  req: HttpRequest,
  res: HttpResponse,
  policy: VerifyPolicy,
  found: AccessCredential,
  validators: (session: Session) => readonly SessionClaimValidator[],
): Promise<Session | undefined> {
  const { manager } = runtime;
  const migration = coreMigration(manager) as CoreMigration;
  if (!migration.options.acceptCoreAccessTokens) throw new SessionError("TRY_REFRESH_TOKEN", "SuperTokens access token: a refresh moves the session");
  const info = await verifyCore(runtime, migration, found.token);
  if (info.tenantId !== "public") throw new SessionError("TRY_REFRESH_TOKEN", "SuperTokens access token of another tenant");
  if (
    migration.options.antiCsrf === "VIA_TOKEN" &&
    found.mode === "cookie" &&
    policy.antiCsrfCheck &&
    !SAFE_METHODS.has(req.method) &&
    info.antiCsrfToken !== null &&
    req.header("anti-csrf") !== info.antiCsrfToken
  ) {
    throw new SessionError("TRY_REFRESH_TOKEN", "anti-csrf header does not match the SuperTokens access token");
  }
  try {
    if (manager.revocations.has(info.handle)) throw new SessionError("UNAUTHORISED", "session revoked");
    if (policy.checkDatabase) await assertCoreLive(runtime, migration, info.handle);
  } catch (error) {
    if (!policy.sessionRequired && error instanceof SessionError && error.code === "UNAUTHORISED") return undefined;
    throw error;
  }
  const claims = Object.assign(Object.create(null) as AccessClaims, userClaims(info), {
    sub: info.userId,
    sid: info.handle,
    iat: info.iat,
    exp: info.exp,
    iss: manager.options.issuer,
  });
  const session = Session.open(manager, { claims, accessToken: found.token }, responseSink(runtime, req, res, found.mode));
  req.setSession(session);
  const list = validators(session);
  // A claim cannot be refetched into a core session (latchkey holds no row for it yet): the
  // refresh that migrates it fetches what is missing.
  if (staleClaims(manager, list, session.userId, session.validationPayload()).length > 0) {
    throw new SessionError("TRY_REFRESH_TOKEN", "a claim of a SuperTokens session needs fetching");
  }
  const errors = validateClaims(manager, list, session.validationPayload());
  if (errors.length > 0) throw invalidClaim(manager, errors);
  return session;
}

/**
 * `POST {apiBasePath}/session/refresh` with a core refresh token (from `Authorization:
 * Bearer`, or the plain `sRefreshToken` cookie when the request carries no latchkey refresh
 * token): migrate, or refuse as the decision table says. Returns `false` when the request
 * carries no core refresh token (or the migration is off): latchkey's own refresh answers it.
 */
export async function refreshWithCoreToken(runtime: Runtime, req: HttpRequest, res: HttpResponse): Promise<boolean> {
  const { manager, transfer } = runtime;
  const migration = coreMigration(manager);
  if (!migration) return false;
  let mode: TransferMode;
  let token = bearerValue(req);
  if (token !== undefined && isCoreRefreshToken(token)) mode = "header";
  else {
    if (readRefreshTokens(req, transfer.names(req)).tokens.length > 0) return false;
    token = allCookieValues(req, PLAIN_REFRESH).find(isCoreRefreshToken);
    if (token === undefined) return false;
    mode = "cookie";
  }
  const refusal = { mode, kind: "refresh" as const, carried: true };
  if (mode === "cookie") {
    const failure = csrfFailure(req, manager.options);
    if (failure !== undefined) {
      // As for latchkey's own refresh: a forged request clears nothing.
      reportCsrfFailure(manager.diagnostics, req, failure);
      reportRefusal(runtime, req, new SessionError("UNAUTHORISED", `CSRF check failed: ${failure}`), "refresh");
      res.sendJson(401, new SessionError("UNAUTHORISED").toBody());
      return true;
    }
  }
  try {
    if (!manager.isReady) await manager.ready();
    const issued = await refreshCoreSession(manager, migration, {
      token,
      antiCsrfHeader: req.header("anti-csrf"),
      cookieMode: mode === "cookie",
      client: clientOf(req),
      accessTokens: mode === "cookie" ? allCookieValues(req, PLAIN_ACCESS).filter(isCoreAccessToken) : [],
    });
    transfer.setTokens(req, res, mode, issued, issued.record);
    if (mode === "cookie") clearCoreCookies(runtime, migration, req, res);
    res.sendJson(200, {});
  } catch (error) {
    const ended = error instanceof SessionError && (error.code === "UNAUTHORISED" || error.code === "TOKEN_THEFT_DETECTED");
    if (ended && mode === "cookie" && !res.headersSent()) clearCoreCookies(runtime, migration, req, res);
    if (!sendSessionError(runtime, req, res, error, refusal)) throw error;
  }
  return true;
}

/**
 * Expires the core's plain-named cookies where latchkey's own do not overwrite them: when
 * latchkey writes prefixed names, and under the old app's `cookieDomain`.
 */
function clearCoreCookies(runtime: Runtime, migration: CoreMigration, req: HttpRequest, res: HttpResponse): void {
  const { transfer, manager } = runtime;
  const plain = transfer.names(req).access === PLAIN_ACCESS;
  const domains: (string | undefined)[] = [];
  if (!plain) domains.push(undefined);
  const old = migration.options.cookieDomain;
  // Never expire the very cookies this response sets (plain names under the same Domain).
  if (old !== undefined && !(plain && manager.options.cookieDomain === old)) domains.push(old);
  const secure = transfer.isSecure(req);
  const sameSite = manager.options.cookieSameSite;
  for (const domain of domains) {
    res.appendHeader("Set-Cookie", expired(PLAIN_ACCESS, "/", domain, secure, sameSite));
    res.appendHeader("Set-Cookie", expired(PLAIN_REFRESH, `${manager.options.apiBasePath}/session/refresh`, domain, secure, sameSite));
  }
}

function expired(name: string, path: string, domain: string | undefined, secure: boolean, sameSite: string): string {
  const parts = [`${name}=`, `Path=${path}`, "Expires=Thu, 01 Jan 1970 00:00:00 GMT", "HttpOnly"];
  if (domain !== undefined) parts.push(`Domain=${domain}`);
  if (secure) parts.push("Secure");
  parts.push(`SameSite=${sameSite[0]?.toUpperCase() ?? ""}${sameSite.slice(1)}`);
  return parts.join("; ");
}

// The core's tokens are standard Base64 (`+`, `/`, `=` inside), which latchkey's own bearer grammar refuses.
function bearerValue(req: HttpRequest): string | undefined {
  const header = req.header("authorization");
  if (header === undefined || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  return BEARER.exec(header)?.[1];
}

async function verifyCore(runtime: Runtime, migration: CoreMigration, token: string): Promise<CoreAccess> {
  const { manager } = runtime;
  const keys = await readKeys(runtime, migration);
  try {
    return verifyCoreAccessToken(token, keys, manager.now());
  } catch (error) {
    if (!(error instanceof SessionError) || error.reason !== UNKNOWN_CORE_KEY) throw error;
    // A key the core published after they were read: read them again (rate-limited).
    return verifyCoreAccessToken(token, await readKeys(runtime, migration, UNKNOWN_CORE_KEY), manager.now());
  }
}

async function readKeys(runtime: Runtime, migration: CoreMigration, reason?: string) {
  try {
    return await migration.keys(runtime.manager.now(), reason);
  } catch (error) {
    runtime.manager.diagnostics.fault("supertokens", "could not read the SuperTokens signing keys", error);
    throw storeUnavailable(error);
  }
}

// checkDatabase: latchkey's row once the session moved, else the core's.
async function assertCoreLive(runtime: Runtime, migration: CoreMigration, handle: string): Promise<void> {
  const { manager } = runtime;
  let live: boolean;
  try {
    const row = await manager.store.findSession(handle);
    live = row ? row.revokedAt === null && isLive(row, manager.now()) : await migration.tables.hasRow(handle);
  } catch (error) {
    manager.diagnostics.fault("read", "could not read a session", error);
    throw storeUnavailable(error);
  }
  if (!live) throw new SessionError("UNAUTHORISED", "session revoked or expired");
}

function userClaims(info: CoreAccess): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(info.payload)) if (!RESERVED_CLAIMS.has(name)) claims[name] = value;
  return claims;
}
