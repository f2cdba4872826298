import type { IncomingMessage, ServerResponse } from "node:http";
import type { Session } from "../../session";
import type { SessionProperty } from "../../types/config";

// Next.js's NextApiRequest / NextApiResponse, restated as the subset latchkey's handlers use:
// importing Next's own types would bring its global declarations (a read-only
// process.env.NODE_ENV among them) into every project that compiles latchkey. Next's types
// are assignable to these, so a route typed with Next's passes where these are asked for.

/**
 * A pages-router API route's request: Node's `IncomingMessage` with what Next adds (its `NextApiRequest`).
 *
 * @example
 * ```ts
 * export default async function login(req: ApiRequest, res: ApiResponse) {
 *   await sessions.createSession(req, res, await checkPassword(req.body));
 *   res.json({ ok: true });
 * }
 * ```
 */
export interface ApiRequest extends IncomingMessage {
  query: Partial<{ [key: string]: string | string[] }>;
  cookies: Partial<{ [key: string]: string }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/**
 * A pages-router API route's response: Node's `ServerResponse` with Next's helpers (its `NextApiResponse`).
 *
 * @example
 * ```ts
 * const answer = (res: ApiResponse<{ ok: boolean }>) => res.status(200).json({ ok: true });
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiResponse<Data = any> = ServerResponse & {
  send(body: Data): void;
  json(body: Data): void;
  status(statusCode: number): ApiResponse<Data>;
  redirect(url: string): ApiResponse<Data>;
  redirect(status: number, url: string): ApiResponse<Data>;
};

/**
 * An API route's handler, as Next.js calls it: what `withSession` returns.
 *
 * @example
 * ```ts
 * const me: ApiHandler = sessions.withSession((req, res) => res.json({ userId: req.session.userId }));
 * export default me;
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiHandler<Data = any> = (req: ApiRequest, res: ApiResponse<Data>) => Promise<void>;

/**
 * An API route's request behind `withSession` (with `sessionRequired`, the default): its session is always there.
 *
 * @example
 * ```ts
 * const describe = (req: SessionApiRequest) => ({ userId: req.session.userId, handle: req.session.handle });
 * ```
 */
export type SessionApiRequest = ApiRequest & { [Name in SessionProperty]: Session };

/**
 * An API route's request behind `withSession(handler, { sessionRequired: false })`: the session when there is one.
 *
 * @example
 * ```ts
 * const greeting = (req: OptionalSessionApiRequest) => (req.session ? `hello ${req.session.userId}` : "hello");
 * ```
 */
export type OptionalSessionApiRequest = ApiRequest & { [Name in SessionProperty]?: Session };
