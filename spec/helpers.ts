import { createHash } from "node:crypto";
import express from "express";
import mysql from "mysql2/promise";
import request from "supertest";
import type { Response as TestResponse } from "supertest";
import {
  errorHandler,
  memoryStore,
  mysqlStore,
  sessionMiddleware,
  verifySession,
  type SessionEvent,
  type RevokedEvent,
  type SessionMiddleware,
  type SessionMiddlewareOptions,
  type SessionStore,
} from "../lib";

export const DATABASE_URL = process.env.LATCHKEY_TEST_DATABASE_URL ?? "mysql://root@127.0.0.1:3306/test";

/** The body of every 401 that is not "try refresh token". */
export const UNAUTHORISED = { message: "unauthorised" };

/**
 * Store methods a request calls to read or write session rows (as opposed to keys, secrets
 * and the timers' work, which countingStore leaves out): every one of SessionStore's.
 */
export const SESSION_METHODS: ReadonlySet<string> = new Set(["createSession", "findSession", "updateSession", "revokeSessionsOfUser", "listForUser", "invalidateClaim"]);

/** SHA-256, as the stores keep refresh tokens and lineages. */
export function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** A table prefix no other spec file, worker or concurrent run will use. */
export function uniquePrefix(): string {
  return `lk${process.pid.toString(36)}_${Math.random().toString(36).slice(2, 8)}_`;
}

export type StoreKind = "memory" | "mysql";

/** The stores every behaviour is checked against. */
export const STORE_KINDS: StoreKind[] = ["memory", "mysql"];

/**
 * Builds stores of one kind and cleans up after them: MySQL stores get their own table
 * prefix, and their tables are dropped when the spec file ends.
 */
export class StoreFactory {
  readonly kind: StoreKind;
  readonly #prefixes: string[] = [];
  readonly #closers: (() => Promise<void>)[] = [];

  constructor(kind: StoreKind) {
    this.kind = kind;
  }

  /** A fresh, empty store (a new prefix for MySQL). */
  create(prefix = this.newPrefix()): SessionStore {
    const store = this.kind === "memory" ? memoryStore() : mysqlStore(DATABASE_URL, { tablePrefix: prefix });
    this.#closers.push(() => store.close());
    return store;
  }

  /** Two stores on one schema, as two app instances on one database have (one store for memory). */
  pair(): [SessionStore, SessionStore] {
    if (this.kind === "memory") {
      const store = this.create();
      return [store, store];
    }
    const prefix = this.newPrefix();
    return [this.create(prefix), this.create(prefix)];
  }

  newPrefix(): string {
    const prefix = uniquePrefix();
    this.#prefixes.push(prefix);
    return prefix;
  }

  async cleanup(): Promise<void> {
    for (const close of this.#closers.splice(0)) await close().catch(() => {});
    if (this.kind !== "mysql" || this.#prefixes.length === 0) return;
    const connection = await mysql.createConnection({ uri: DATABASE_URL });
    try {
      for (const prefix of this.#prefixes.splice(0)) {
        for (const table of ["sessions", "signing_keys", "secrets", "claim_invalidations", "schema_version"]) {
          await connection.query(`DROP TABLE IF EXISTS \`${prefix}${table}\``);
        }
      }
    } finally {
      await connection.end();
    }
  }
}

/** Runs a describe block once per store kind, with a factory that cleans up after itself. */
export function describeEachStore(name: string, body: (stores: StoreFactory) => void): void {
  describe.each(STORE_KINDS)(`${name} [%s store]`, (kind) => {
    const stores = new StoreFactory(kind);
    afterAll(() => stores.cleanup());
    body(stores);
  });
}

/** A clock tests move by hand. */
export function fakeClock(start = Date.UTC(2026, 10, 28, 12, 0, 0)): { now: () => number; advance: (ms: number) => void } {
  let now = start;
  return { now: () => now, advance: (ms) => void (now += ms) };
}

export interface TestApp {
  app: express.Express;
  sessions: SessionMiddleware;
  events: { created: SessionEvent[]; refreshed: SessionEvent[]; theft: SessionEvent[]; revoked: RevokedEvent[] };
  handlerCalls: { count: number };
}

/**
 * The fixture app: `POST /login` creates a session for `req.body.userId`; `/api/me`,
 * `/api/optional` and `/api/strict` are guarded by verifySession with default,
 * `sessionRequired: false` and `checkDatabase: true`.
 */
export function createApp(options: SessionMiddlewareOptions = {}): TestApp {
  const events: TestApp["events"] = { created: [], refreshed: [], theft: [], revoked: [] };
  const handlerCalls = { count: 0 };
  const sessions = sessionMiddleware({
    logger: false,
    onSessionCreated: (event) => void events.created.push(event),
    onRefreshed: (event) => void events.refreshed.push(event),
    onTheftDetected: (event) => void events.theft.push(event),
    onRevoked: (event) => void events.revoked.push(event),
    ...options,
  });
  const app = express();
  app.use(express.json());
  app.use(sessions);
  app.post("/login", async (req, res, next) => {
    try {
      const session = await res.createSession(req.body.userId, {
        accessTokenPayload: req.body.payload,
        sessionData: req.body.data,
      });
      res.json({ message: "User logged in!", handle: session.handle });
    } catch (error) {
      // As a careful app would: a bad user id from the client is the client's mistake.
      if (error instanceof TypeError) return void res.status(400).json({ message: error.message });
      next(error);
    }
  });
  const describeSession = (req: express.Request, res: express.Response) => {
    handlerCalls.count++;
    const session = req.session;
    res.json(
      session
        ? { userId: session.userId, handle: session.handle, payload: session.accessTokenPayload, expiresAt: session.expiresAt }
        : { userId: null },
    );
  };
  app.get("/api/me", verifySession(), describeSession);
  app.post("/api/me", verifySession(), describeSession);
  app.get("/api/optional", verifySession({ sessionRequired: false }), describeSession);
  app.get("/api/strict", verifySession({ checkDatabase: true }), describeSession);
  app.use(errorHandler());
  return { app, sessions, events, handlerCalls };
}

export interface Cookie {
  name: string;
  value: string;
  attributes: Record<string, string | true>;
}

/** Parses every Set-Cookie of a response, keyed by cookie name. */
export function setCookies(res: TestResponse): Map<string, Cookie> {
  const header = res.headers["set-cookie"] as unknown as string[] | undefined;
  const cookies = new Map<string, Cookie>();
  for (const line of header ?? []) {
    const [pair, ...rest] = line.split(";");
    const eq = (pair as string).indexOf("=");
    const name = (pair as string).slice(0, eq).trim();
    const attributes: Record<string, string | true> = {};
    for (const part of rest) {
      const [key, ...value] = part.trim().split("=");
      attributes[(key as string).toLowerCase()] = value.length ? value.join("=") : true;
    }
    cookies.set(name, { name, value: decodeURIComponent((pair as string).slice(eq + 1)), attributes });
  }
  return cookies;
}

/** Asserts a Set-Cookie exists with these attributes (keys lower-case, `true` for flags). */
export function expectCookie(res: TestResponse, name: string, attributes: Record<string, string | true | undefined>): Cookie {
  const cookie = setCookies(res).get(name);
  expect(cookie).toBeDefined();
  for (const [key, value] of Object.entries(attributes)) {
    expect([key, (cookie as Cookie).attributes[key]]).toEqual([key, value]);
  }
  return cookie as Cookie;
}

/** Asserts a Set-Cookie clears the cookie (empty value, expiry in the past). */
export function expectCleared(res: TestResponse, name: string, path: string): void {
  const cookie = expectCookie(res, name, { path, httponly: true });
  expect(cookie.value).toBe("");
  expect(new Date(cookie.attributes.expires as string).getTime()).toBeLessThan(Date.now());
}

export interface Tokens {
  access: string;
  refresh: string;
}

/** Logs in through the fixture app and returns the tokens its cookies carried. */
export async function login(
  app: express.Express,
  userId = "user-1",
  body: Record<string, unknown> = {},
): Promise<Tokens & { res: TestResponse; handle: string }> {
  const res = await request(app).post("/login").send({ userId, ...body }).expect(200);
  return { res, handle: res.body.handle, ...tokensOf(res) };
}

export function tokensOf(res: TestResponse): Tokens {
  const cookies = setCookies(res);
  return { access: cookies.get("sAccessToken")?.value ?? "", refresh: cookies.get("sRefreshToken")?.value ?? "" };
}

export function accessCookie(token: string): string {
  return `sAccessToken=${token}`;
}

export function refreshCookie(token: string): string {
  return `sRefreshToken=${token}`;
}

/** Decodes a front-token header the way the frontend SDK does. */
export function decodeFrontToken(header: string): { uid: string; ate: number; up: Record<string, unknown> } {
  return JSON.parse(Buffer.from(header, "base64").toString("utf8"));
}

/** Decodes a JWT part without verifying it. */
export function decodeJwtPart(token: string, index: 0 | 1): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[index] as string, "base64url").toString("utf8"));
}

// What each instance runs on its own timers, whatever the traffic: not per-request I/O.
const BACKGROUND_CALLS: ReadonlySet<string> = new Set([
  "listRevokedSince",
  "listClaimInvalidationsSince",
  "deleteExpired",
  "deleteRetiredKeys",
  "deleteClaimInvalidations",
]);

/** Wraps a store so a test can count (and break) the calls requests make (timers' calls are left out). */
export function countingStore(store: SessionStore): { store: SessionStore; calls: string[] } {
  const calls: string[] = [];
  const proxy = new Proxy(store, {
    get(target, property) {
      // The target as receiver: stores keep private fields, which a proxy does not have.
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (!BACKGROUND_CALLS.has(String(property))) calls.push(String(property));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

export { request };
