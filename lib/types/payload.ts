/**
 * The custom claims of your access tokens. Empty by default; extend it to type
 * `req.session.accessTokenPayload`, `createSession`'s `accessTokenPayload` and
 * `mergeIntoAccessTokenPayload`:
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

/** A change to the payload: your claims' types, `null` to delete one. */
export type AccessTokenPayloadUpdate = { [K in keyof AccessTokenPayload]?: AccessTokenPayload[K] | null } & Record<string, unknown>;
