/**
 * Type-level settings of latchkey, which you declare to match runtime options:
 *
 * @example
 * ```ts
 * // beside express-session, with sessionMiddleware({ sessionProperty: "latchkey" }):
 * declare module "latchkey" {
 *   interface TypeConfig { sessionProperty: "latchkey" }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface TypeConfig {}

/** The request property latchkey's session lives under, as declared in {@link TypeConfig}. */
export type SessionProperty = TypeConfig extends { sessionProperty: infer Name extends string } ? Name : "session";
