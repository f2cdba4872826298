import type { SessionManagement, SessionMiddlewareOptions } from "../../lib";

/**
 * One framework under the framework conformance suite (spec/frameworks/conformance/): a real
 * app of that framework, on a real HTTP server on 127.0.0.1, using latchkey's adapter for it
 * exactly as its docs page shows. Every driver serves the same routes, so one suite checks
 * every adapter:
 *
 * | route | what it does |
 * |---|---|
 * | `POST /login` | body `{ userId, rememberMe?, sessionTtl?, accessTokenPayload?, reauthenticate? }` (JSON): `createSession(userId, {…})`, answers 200 `{ handle }` |
 * | `GET /api/me` | guarded (defaults): 200 `{ userId, handle }` |
 * | `GET /api/optional` | guarded with `sessionRequired: false`: 200 `{ userId }` (`null` when anonymous) |
 * | `GET /api/strict` | guarded with `checkDatabase: true`: 200 `{ userId }` |
 * | `POST /api/me` | guarded (defaults, so the CSRF check runs on this unsafe method): 200 `{ userId }` |
 * | `GET /api/admin` | guarded with `overrideGlobalClaimValidators: (g) => [...g, ROLES.validators.includes("admin")]`: 200 `{ userId }` |
 * | `POST /api/payload` | guarded; `session.mergeIntoAccessTokenPayload(body)` then 200 `{}` (the re-signed token must be on the response) |
 * | `GET /api/boom` | guarded; the route throws `new SessionError("STORE_UNAVAILABLE")`: the answer must be latchkey's 503 body, never the framework's 500 |
 *
 * plus latchkey's protocol endpoints under `apiBasePath` (refresh, sign-out, JWKS).
 * `ROLES` is {@link ROLES_CLAIM}: the driver passes `options` (which the suite builds with
 * `claims: [ROLES_CLAIM]` where it needs it) to the adapter's factory unchanged, adding only
 * what the framework needs (`logger: false` is the suite's to set).
 */
export interface FrameworkDriver {
  /** As the suite prints it: "express", "fastify", "koa", "hapi", "lambda v1", "lambda v2", "next pages", "fetch". */
  readonly name: string;
  /** Where the app serves latchkey's endpoints (`/auth` by default; `/api/auth` for Next pages). */
  readonly apiBasePath: string;
  /** Starts the app on 127.0.0.1 on a free port. */
  start(options: SessionMiddlewareOptions): Promise<FrameworkApp>;
}

export interface FrameworkApp {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly url: string;
  /** The management API on the value the adapter's factory returned (`revokeSession`, `ready`, `close`, …). */
  readonly sessions: SessionManagement;
  /** Stops the server and calls `sessions.close()`. */
  close(): Promise<void>;
}

export { ROLES_CLAIM } from "./roles";
