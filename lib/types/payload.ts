/**
 * The custom claims of your access tokens. Empty by default; extend it to type
 * `req.session.accessTokenPayload` and `createSession`'s `accessTokenPayload`:
 *
 * @example
 * ```ts
 * declare module "latchkey" {
 *   interface AccessTokenPayload {
 *     role?: "admin" | "member";
 *   }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface AccessTokenPayload {}
