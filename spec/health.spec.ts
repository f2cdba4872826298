import express from "express";
import { memoryStore, mysqlStore, SessionError, sessionMiddleware, type SessionMiddleware } from "../lib";
import { DATABASE_URL, request, StoreFactory } from "./helpers";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy";

// Issue 22 item 2: /healthz answered 200 on every instance while every login answered 503,
// because ready() settles once. health() follows the store; ready() stays the start-up gate.
const POLL_MS = 2000;
const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 800;

/** The app's health check, as docs/operations.md shows it. */
function healthApp(sessions: SessionMiddleware): express.Express {
  const app = express();
  app.get("/healthz", async (_req, res) => {
    try {
      await sessions.health();
      res.json({ ok: true });
    } catch (error) {
      res.status(503).json({ ok: false, code: (error as SessionError).code });
    }
  });
  return app;
}

/** Asks health() every 100 ms until it settles the wanted way; resolves to the time that took and the last rejection. */
async function until(sessions: SessionMiddleware, want: "rejects" | "resolves", withinMs: number): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  for (;;) {
    const error = await sessions.health().then(
      () => undefined,
      (rejection: unknown) => rejection ?? new Error("rejected with nothing"),
    );
    if ((want === "rejects") === (error !== undefined)) return { ms: Date.now() - started, error };
    if (Date.now() - started > withinMs) throw new Error(`health() still did not ${want === "rejects" ? "reject" : "resolve"} after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("health() on MySQL behind a proxy the spec breaks", () => {
  const stores = new StoreFactory("mysql");
  const url = new URL(DATABASE_URL);
  let proxy: TcpProxy;
  let sessions: SessionMiddleware;

  beforeEach(async () => {
    proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
    const store = mysqlStore(
      {
        host: "127.0.0.1",
        port: proxy.port,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.slice(1),
        connectTimeout: CONNECT_TIMEOUT_MS,
      },
      { tablePrefix: stores.newPrefix(), queryTimeoutMs: QUERY_TIMEOUT_MS },
    );
    sessions = sessionMiddleware({ store, logger: false, cleanupInterval: false });
  });
  afterEach(async () => {
    await sessions.close();
    await proxy.close();
  });
  afterAll(() => stores.cleanup());

  it("turns red within a poll interval of the database refusing connections, with the driver's error as cause, and green again after", async () => {
    const app = healthApp(sessions);
    await request(app).get("/healthz").expect(200, { ok: true });

    await proxy.refuse();
    const down = await until(sessions, "rejects", 10_000);
    // The next poll (at most 2 s away) fails as soon as its connection is refused.
    expect(down.ms).toBeLessThan(POLL_MS + CONNECT_TIMEOUT_MS + 1000);
    expect(down.error).toBeInstanceOf(SessionError);
    const error = down.error as SessionError & { cause: { code?: unknown } };
    expect([error.code, error.status]).toEqual(["STORE_UNAVAILABLE", 503]);
    // The driver's error (a socket error: Node's own realm, so no instanceof across jest's).
    expect(error.cause).toEqual(expect.objectContaining({ code: expect.stringMatching(/^(ECONNREFUSED|ECONNRESET|PROTOCOL_CONNECTION_LOST|EPIPE)$/), message: expect.any(String) }));
    await request(app).get("/healthz").expect(503, { ok: false, code: "STORE_UNAVAILABLE" });
    // ready() is the start-up gate: settled once, it stays resolved through the outage.
    await expect(sessions.ready()).resolves.toBeUndefined();

    await proxy.pass();
    const up = await until(sessions, "resolves", 10_000);
    expect(up.ms).toBeLessThan(POLL_MS + 1000);
    await request(app).get("/healthz").expect(200, { ok: true });
  });

  it("turns red when the database accepts connections and never answers", async () => {
    await sessions.health();
    proxy.stall();
    const down = await until(sessions, "rejects", 15_000);
    // A poll that hangs fails at the query timeout; one that never settles is overdue after 5 s.
    expect(down.ms).toBeLessThan(POLL_MS + 5000 + 1000);
    expect((down.error as SessionError).code).toBe("STORE_UNAVAILABLE");
    expect((down.error as SessionError).cause).toEqual(expect.objectContaining({ message: expect.any(String) }));
    await proxy.pass();
    await until(sessions, "resolves", 10_000);
  });

  it("before start-up, rejects as ready() does, and resolves once the database is reachable", async () => {
    await proxy.refuse();
    const error = (await sessions.health().catch((rejection: unknown) => rejection)) as SessionError & { cause: { code?: unknown } };
    expect([error.code, typeof error.cause.code]).toEqual(["STORE_UNAVAILABLE", "string"]);
    await proxy.pass();
    await expect(sessions.health()).resolves.toBeUndefined();
  });
});

describe("health() on the memory store", () => {
  afterEach(() => jest.restoreAllMocks());

  it("resolves", async () => {
    const sessions = sessionMiddleware({ store: memoryStore(), logger: false });
    await request(healthApp(sessions)).get("/healthz").expect(200, { ok: true });
    await expect(sessions.health()).resolves.toBeUndefined();
    await sessions.close();
  });

  // A process frozen between requests (AWS Lambda) runs no timers: an overdue poll with none
  // under way is no outage, so health() polls itself and answers with that poll's outcome.
  it("polls itself when the last poll is overdue and none is running, and answers with its outcome", async () => {
    const store = memoryStore();
    const sessions = sessionMiddleware({ store, logger: false });
    await sessions.ready();
    const polls = jest.spyOn(store, "listRevokedSince");
    const realNow = performance.now.bind(performance);
    jest.spyOn(performance, "now").mockImplementation(() => realNow() + 6000); // 6 s without a tick

    await expect(sessions.health()).resolves.toBeUndefined();
    expect(polls).toHaveBeenCalledTimes(1);
    await expect(sessions.health()).resolves.toBeUndefined(); // fresh again: no second poll
    expect(polls).toHaveBeenCalledTimes(1);

    const broken = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:3306"), { code: "ECONNREFUSED" });
    polls.mockRejectedValue(broken);
    jest.spyOn(performance, "now").mockImplementation(() => realNow() + 12_000);
    const error = (await sessions.health().catch((rejection: unknown) => rejection)) as SessionError;
    expect([error.code, error.cause]).toEqual(["STORE_UNAVAILABLE", broken]);
    await sessions.close();
  });
});
