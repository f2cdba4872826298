import request from "supertest";
import type { Response as TestResponse } from "supertest";
import type { RevokedEvent, SessionEvent, SessionMiddlewareOptions, SessionStore } from "../../lib";
import { decodeFrontToken, decodeJwtPart, fakeClock, setCookies, type Cookie, type StoreFactory } from "../helpers";
import type { FrameworkApp, FrameworkDriver } from "./driver";

/**
 * Shared helpers of the framework conformance suite: starting a driver's app on a fresh store
 * with a fake clock and recording hooks, logging in over real HTTP, and reading what came back.
 */

export { request, decodeFrontToken, decodeJwtPart, setCookies };
export type { TestResponse };

/** The body of every 401 that is not "try refresh token". */
export const UNAUTHORISED = { message: "unauthorised" };
export const TRY_REFRESH = { message: "try refresh token" };
export const STORE_DOWN = { message: "session store unavailable", code: "STORE_UNAVAILABLE" };
export const FOREIGN_ORIGIN = "http://evil.example";

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export interface Events {
  created: SessionEvent[];
  refreshed: SessionEvent[];
  theft: SessionEvent[];
  revoked: RevokedEvent[];
}

/** A driver's app as the suite drives it. */
export interface Running extends FrameworkApp {
  clock: ReturnType<typeof fakeClock>;
  events: Events;
  store: SessionStore;
  /** Token cookie names: `__Host-`/`__Secure-` prefixed under `cookieSecure: true`. */
  names: { access: string; refresh: string };
  paths: { refresh: string; signout: string; jwks: string };
  /** A supertest agent-less request builder against the app's URL. */
  http(): ReturnType<typeof request>;
}

export interface Fixtures {
  driver: FrameworkDriver;
  stores: StoreFactory;
  /** Starts the driver's app; it is closed after the test. */
  start(options?: SessionMiddlewareOptions): Promise<Running>;
}

export function frameworkFixtures(driver: FrameworkDriver, stores: StoreFactory): Fixtures {
  const running: FrameworkApp[] = [];
  afterEach(async () => {
    for (const app of running.splice(0)) await app.close().catch(() => {});
  });
  return {
    driver,
    stores,
    async start(options = {}) {
      const clock = fakeClock();
      const events: Events = { created: [], refreshed: [], theft: [], revoked: [] };
      const store = (options.store as SessionStore | undefined) ?? stores.create();
      const app = await driver.start({
        logger: false,
        clock: clock.now,
        onSessionCreated: (event) => void events.created.push(event),
        onRefreshed: (event) => void events.refreshed.push(event),
        onTheftDetected: (event) => void events.theft.push(event),
        onRevoked: (event) => void events.revoked.push(event),
        ...options,
        store,
      });
      running.push(app);
      await app.sessions.ready();
      const base = driver.apiBasePath;
      const prefixed = options.cookieSecure === true && options.cookieDomain === undefined;
      return {
        url: app.url,
        sessions: app.sessions,
        close: () => app.close(),
        clock,
        events,
        store,
        names: prefixed ? { access: "__Host-sAccessToken", refresh: "__Secure-sRefreshToken" } : { access: "sAccessToken", refresh: "sRefreshToken" },
        paths: { refresh: `${base}/session/refresh`, signout: `${base}/signout`, jwks: `${base}/jwt/jwks.json` },
        http: () => request(app.url),
      };
    },
  };
}

export interface LoggedIn {
  res: TestResponse;
  handle: string;
  access: string;
  refresh: string;
}

/** `POST /login` over HTTP; expects 200 `{ handle }` and returns the tokens (cookies, or headers in header mode). */
export async function login(app: Running, userId = "user-1", body: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<LoggedIn> {
  const res = await app.http().post("/login").set(headers).send({ userId, ...body });
  expect([res.status, res.body]).toEqual([200, { handle: expect.any(String) }]);
  const header = headers["st-auth-mode"] === "header";
  return { res, handle: res.body.handle, ...(header ? headerTokens(res) : cookieTokens(app, res)) };
}

/** The tokens a response set as cookies ("" when absent). */
export function cookieTokens(app: Running, res: TestResponse): { access: string; refresh: string } {
  const cookies = setCookies(res);
  return { access: cookies.get(app.names.access)?.value ?? "", refresh: cookies.get(app.names.refresh)?.value ?? "" };
}

/** The tokens a response sent in `st-access-token` / `st-refresh-token` ("" when absent). */
export function headerTokens(res: TestResponse): { access: string; refresh: string } {
  return { access: String(res.headers["st-access-token"] ?? ""), refresh: String(res.headers["st-refresh-token"] ?? "") };
}

/** A Cookie request header carrying these tokens under the app's names. */
export function cookieHeader(app: Running, tokens: { access?: string; refresh?: string }): string {
  const parts: string[] = [];
  if (tokens.access !== undefined) parts.push(`${app.names.access}=${tokens.access}`);
  if (tokens.refresh !== undefined) parts.push(`${app.names.refresh}=${tokens.refresh}`);
  return parts.join("; ");
}

/** The cookie a response set under `name`; fails the test when there is none. */
export function cookieOf(res: TestResponse, name: string): Cookie {
  const cookie = setCookies(res).get(name);
  if (!cookie) throw new Error(`expected a Set-Cookie for ${name}, got: ${JSON.stringify(res.headers["set-cookie"] ?? [])}`);
  return cookie;
}

/** Attributes of a cookie without its Expires (asserted apart, as a time). */
export function attributesOf(cookie: Cookie): Record<string, string | true> {
  const { expires: _expires, ...rest } = cookie.attributes;
  return rest;
}

/** A cookie's Expires in ms since the epoch, or `undefined` for a browser-session cookie. */
export function expiresOf(cookie: Cookie): number | undefined {
  const expires = cookie.attributes.expires;
  return typeof expires === "string" ? new Date(expires).getTime() : undefined;
}

/** Asserts both token cookies are cleared: empty values, expired, with the paths they were set with. */
export function expectClearedCookies(app: Running, res: TestResponse): void {
  for (const [name, path] of [
    [app.names.access, "/"],
    [app.names.refresh, app.paths.refresh],
  ] as const) {
    const cookie = cookieOf(res, name);
    expect([name, cookie.value, cookie.attributes.path, cookie.attributes.httponly]).toEqual([name, "", path, true]);
    expect(expiresOf(cookie)).toBeLessThan(Date.now());
  }
}

/** The names listed in `Access-Control-Expose-Headers`, lower-cased. */
export function exposed(res: TestResponse): string[] {
  return String(res.headers["access-control-expose-headers"] ?? "")
    .split(",")
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
}

/** The `front-token` header decoded as the SDK does; fails when it is missing. */
export function frontOf(res: TestResponse): { uid: string; ate: number; up: Record<string, unknown> } {
  const header = res.headers["front-token"];
  if (typeof header !== "string" || header === "remove") throw new Error(`expected a front-token, got ${String(header)}`);
  return decodeFrontToken(header);
}

/** Asserts a response set no cookie at all. */
export function expectNoCookies(res: TestResponse): void {
  expect(res.headers["set-cookie"]).toBeUndefined();
}

/**
 * Breaks a store the way a lost database does: while `down`, every method a request or a
 * timer calls rejects (as the driver would). The proxy calls the real store with itself as
 * the receiver: stores keep private fields, which a proxy does not have.
 */
export function breakableStore(store: SessionStore): { store: SessionStore; down: (value: boolean) => void } {
  let broken = false;
  const proxy = new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function" || property === "close") return value;
      return (...args: unknown[]) => {
        if (broken) return Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:3306"), { code: "ECONNREFUSED" }));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, down: (value) => void (broken = value) };
}
