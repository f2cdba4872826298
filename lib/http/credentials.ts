import cookieParser from "cookie-parser";
import type { KeyRing } from "../keys";
import { isCompactJws, isOwnAccessToken } from "../tokens/access";
import { parseRefreshToken, type PresentedRefreshToken } from "../tokens/refresh";
import type { HttpRequest } from "./seam";

/**
 * How tokens travel (DESIGN §2): `cookie` (HttpOnly cookies) or `header`
 * (`Authorization: Bearer` in, `st-access-token` / `st-refresh-token` out).
 */
export type TransferMode = "cookie" | "header";

export interface CookieNames {
  access: string;
  refresh: string;
}

/** The access token a request carries, and how it came. */
export interface AccessCredential {
  token: string;
  mode: TransferMode;
  /** Two access cookies (a `cookieDomain` change left one behind). */
  duplicated: boolean;
}

/** The refresh tokens a request carries (several cookies of one name are possible), and how they came. */
export interface RefreshCredential {
  mode: TransferMode;
  tokens: PresentedRefreshToken[];
  /** Access tokens sent with the refresh (cookie mode): they anchor it to their session. */
  accessTokens: string[];
  /** Whether the request carried any token cookie at all (a refusal then clears them). */
  carriedCookies: boolean;
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i;
const MAX_AUTHORIZATION_LENGTH = 8192;

// cookie-parser is the one cookie parser. Without a secret it parses only; it is run on a
// holder object, so the request's own req.cookies is never set by latchkey (an app's
// cookie-parser mounted later would skip its work, signed cookies included, if it were).
const parse = cookieParser();
const PARSED = Symbol("latchkey.cookies");
type WithCookies = HttpRequest & { [PARSED]?: Record<string, unknown> };

/** The request's cookies: the app's own parse when there is one (cookie-parser in Express), else parsed once, here. */
function cookiesOf(req: HttpRequest): Record<string, unknown> {
  const cached = (req as WithCookies)[PARSED];
  if (cached) return cached;
  const parsed = req.parsedCookies() ?? parseHeader(req.header("cookie"));
  (req as WithCookies)[PARSED] = parsed;
  return parsed;
}

// cookie-parser works on a request-shaped object and is synchronous: one shared holder
// serves every call, so parsing allocates only what the parser itself does.
const holder: { headers: { cookie: string | undefined }; cookies: Record<string, unknown> | undefined } = { headers: { cookie: undefined }, cookies: undefined };

function parseHeader(header: string | undefined): Record<string, unknown> {
  if (!header) return EMPTY;
  holder.headers.cookie = header;
  holder.cookies = undefined; // cookie-parser skips a request whose cookies are set
  parse(holder as unknown as Parameters<typeof parse>[0], undefined as never, noop);
  const parsed = holder.cookies ?? EMPTY;
  holder.cookies = undefined;
  return parsed;
}

const EMPTY: Record<string, unknown> = Object.freeze(Object.create(null) as Record<string, unknown>);

function noop(): void {}

// cookie-parser turns values starting with "j:" into objects; only a string is a token.
function cookieValue(req: HttpRequest, name: string): string | undefined {
  const value = cookiesOf(req)[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/**
 * Every value of a cookie name, in the order the browser sent them. Parsers keep only
 * the first of a name; each `;`-separated piece is therefore parsed on its own by the
 * same parser, so nothing here reads a cookie differently from cookie-parser. Only a
 * header that holds the name twice as text can hold two such cookies.
 */
export function allCookieValues(req: HttpRequest, name: string): string[] {
  if (!holdsTwice(req, name)) {
    const single = cookieValue(req, name);
    return single === undefined ? [] : [single];
  }
  const values: string[] = [];
  for (const piece of (req.header("cookie") as string).split(";")) {
    const value = parseHeader(piece)[name];
    if (typeof value === "string" && value.length > 0) values.push(value);
  }
  return values;
}

// Whether the Cookie header holds `name` twice as text: one pass over the header, which
// for the usual single cookie ends at the first miss after it.
function holdsTwice(req: HttpRequest, name: string): boolean {
  const header = req.header("cookie");
  if (header === undefined) return false;
  const first = header.indexOf(name);
  return first !== -1 && header.indexOf(name, first + 1) !== -1;
}

/** The bearer value of `Authorization`, if any. */
function bearerValue(req: HttpRequest): string | undefined {
  const header = req.header("authorization");
  if (header === undefined || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  return BEARER.exec(header)?.[1];
}

/**
 * The request's access token. A bearer token that is structurally latchkey's wins over a
 * cookie: a cross-site page cannot make a browser send `Authorization`, so it needs no CSRF
 * check. Anything else in `Authorization` — an identity provider's ID token or a third-party
 * API token the app sends along (the SDK passes the app's own header through in cookie
 * mode), the SDK's `Bearer undefined` while a page switches modes — is not ours: the cookie
 * is used, or the 401 leaves the cookies be, so the user is never signed out by it.
 */
export function readAccessToken(req: HttpRequest, names: CookieNames, keys: Pick<KeyRing, "isOwnKid">): AccessCredential | undefined {
  const bearer = bearerValue(req);
  if (bearer !== undefined && isCompactJws(bearer) && isOwnAccessToken(keys, bearer)) return { token: bearer, mode: "header", duplicated: false };
  const token = cookieValue(req, names.access);
  if (token === undefined || !isCompactJws(token)) return undefined;
  return { token, mode: "cookie", duplicated: holdsTwice(req, names.access) && allCookieValues(req, names.access).length > 1 };
}

/** The request's refresh tokens: the bearer one, else every refresh cookie, with the access cookies that anchor them. */
export function readRefreshTokens(req: HttpRequest, names: CookieNames): RefreshCredential {
  const bearer = bearerValue(req);
  const fromBearer = bearer === undefined ? undefined : parseRefreshToken(bearer);
  const accessTokens = allCookieValues(req, names.access);
  const carriedCookies = carriesTokenCookie(req, names);
  if (fromBearer) return { mode: "header", tokens: [fromBearer], accessTokens: [], carriedCookies };
  const tokens: PresentedRefreshToken[] = [];
  for (const value of allCookieValues(req, names.refresh)) {
    const parsed = parseRefreshToken(value);
    if (parsed) tokens.push(parsed);
  }
  return { mode: "cookie", tokens, accessTokens: accessTokens.filter(isCompactJws), carriedCookies };
}

/** Whether the request carries a token cookie of either name, well-formed or not (clearing then has something to clear). */
export function carriesTokenCookie(req: HttpRequest, names: CookieNames): boolean {
  const cookies = cookiesOf(req);
  return cookies[names.access] !== undefined || cookies[names.refresh] !== undefined;
}

/** The mode the client asked for with `st-auth-mode`; it decides only for a request that carries no token. */
export function requestedMode(req: HttpRequest): TransferMode {
  return req.header("st-auth-mode") === "header" ? "header" : "cookie";
}
