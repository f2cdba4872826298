/**
 * `latchkey/koa`: latchkey as Koa middleware. `Session`, `SessionError`, the claims and the
 * option types come from "latchkey" itself.
 *
 * @example
 * ```ts
 * import { koaSessions, verifySession } from "latchkey/koa";
 * const sessions = koaSessions();
 * app.use(sessions);
 * router.get("/api/me", verifySession(), (ctx) => {
 *   ctx.body = { userId: ctx.state.session!.userId };
 * });
 * ```
 *
 * @packageDocumentation
 */
import "./types";

export { koaSessions } from "./middleware";
export type { KoaSessions } from "./middleware";
export { verifySession } from "./verify";
