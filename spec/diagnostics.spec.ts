import express from "express";
import { mysqlStore, sessionMiddleware } from "../lib";
import { accessCookie, createApp, DATABASE_URL, describeEachStore, login, refreshCookie, request, StoreFactory } from "./helpers";
import { tcpProxy } from "./support/tcp-proxy";

/** A logger that keeps what it was told. */
function recorder() {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    logger: {
      warn: (message: string) => void lines.push({ level: "warn", message }),
      error: (message: string) => void lines.push({ level: "error", message }),
      debug: (message: string) => void lines.push({ level: "debug", message }),
    },
  };
}

// Issue 12 items 1 and 5: refusals are visible, and an outage is not one log line per request.
describeEachStore("refusals are visible", (stores) => {
  it("warns once per refused origin, naming the request, the origin and the option that would allow it", async () => {
    const log = recorder();
    const { app } = createApp({ store: stores.create(), logger: log.logger });
    const { refresh, access } = await login(app);
    for (let i = 0; i < 3; i++) {
      await request(app).post("/auth/session/refresh").set("Origin", "https://spa.example.com").set("Cookie", refreshCookie(refresh)).expect(401);
      await request(app).post("/api/me").set("Origin", "https://spa.example.com").set("Cookie", accessCookie(access)).expect(401);
    }
    await request(app).post("/api/me").set("Origin", "https://other.example.com").set("Cookie", accessCookie(access)).expect(401);
    expect(log.lines).toEqual([
      {
        level: "warn",
        // supertest sends Host: 127.0.0.1:<its port>; spec/behind-proxy.spec.ts pins the whole text.
        message: expect.stringMatching(
          /^refused POST \/auth\/session\/refresh from origin "https:\/\/spa\.example\.com": it is neither this API's own origin nor in trustedOrigins; the request's Host was "127\.0\.0\.1:\d+": .* If that origin is your frontend on another host, add it: sessionMiddleware\(\{ trustedOrigins: \["https:\/\/spa\.example\.com"\] \}\)\. \(Warned once per origin\.\)$/,
        ),
      },
      { level: "warn", message: expect.stringMatching(/^refused POST \/api\/me from origin "https:\/\/other\.example\.com"/) },
    ]);
  });

  it("with debug: true, logs the reason of every refusal, and never a token", async () => {
    const log = recorder();
    const { app } = createApp({ store: stores.create(), logger: log.logger, debug: true });
    const { access, refresh } = await login(app);
    await request(app).get("/api/me").expect(401);
    await request(app).get("/api/me").set("Cookie", accessCookie(`${access.slice(0, -4)}AAAA`)).expect(401);
    const [handle, , secret] = refresh.split(".") as [string, string, string];
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(`${handle}.${"Q".repeat(22)}.${secret}`)).expect(401);
    const debug = log.lines.filter((line) => line.level === "debug").map((line) => line.message);
    expect(debug).toEqual([
      "refused GET /api/me (no access token): 401 unauthorised",
      "refused GET /api/me (access token failed verification): 401 unauthorised",
      "refused POST /auth/session/refresh (refresh token does not match): 401 unauthorised",
    ]);
    for (const line of log.lines) for (const secret of [access, refresh, ...refresh.split(".").slice(1), access.split(".")[2] as string]) expect(line.message).not.toContain(secret);
  });

  it("turns debug on with DEBUG=latchkey (among other namespaces)", async () => {
    const previous = process.env.DEBUG;
    process.env.DEBUG = "express:router,latchkey";
    try {
      const log = recorder();
      const { app } = createApp({ store: stores.create(), logger: log.logger });
      await request(app).get("/api/me").expect(401);
      expect(log.lines).toEqual([{ level: "debug", message: "refused GET /api/me (no access token): 401 unauthorised" }]);
    } finally {
      if (previous === undefined) delete process.env.DEBUG;
      else process.env.DEBUG = previous;
    }
  });
});

describe("an outage in the log", () => {
  const stores = new StoreFactory("mysql");
  afterAll(() => stores.cleanup());

  it("is one line per kind of fault while it lasts, not one per failing request", async () => {
    const url = new URL(DATABASE_URL);
    const proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
    const log = recorder();
    const store = mysqlStore(
      { host: "127.0.0.1", port: proxy.port, user: decodeURIComponent(url.username), database: url.pathname.slice(1), connectTimeout: 500 },
      { tablePrefix: stores.newPrefix(), queryTimeoutMs: 500 },
    );
    const { app, sessions } = createApp({ store, logger: log.logger });
    await login(app); // up and running
    await proxy.refuse();
    for (let i = 0; i < 10; i++) await request(app).post("/login").send({ userId: `u${i}` }).expect(503);
    const errors = log.lines.filter((line) => line.level === "error");
    expect(errors).toEqual([expect.objectContaining({ message: "could not store a new session" })]);
    await sessions.close();
    await proxy.close();
  });
});

describe("ready()", () => {
  it("rejects at start-up for an unreachable database, with the driver's cause, instead of at the first login", async () => {
    const sessions = sessionMiddleware({ store: mysqlStore("mysql://root@127.0.0.1:1/test", { queryTimeoutMs: 2000 }), logger: false });
    const failure = (await sessions.ready().catch((error: unknown) => error)) as { code: string; status: number; cause: { code: string } };
    expect([failure.code, failure.status, failure.cause.code]).toEqual(["STORE_UNAVAILABLE", 503, "ECONNREFUSED"]);
    await sessions.close();
  });

  it("resolves once the store is usable, and is what a health check can await", async () => {
    const stores = new StoreFactory("mysql");
    const sessions = sessionMiddleware({ store: stores.create(), logger: false });
    await expect(sessions.ready()).resolves.toBeUndefined();
    const app = express();
    app.get("/healthz", (_req, res) => {
      sessions.ready().then(
        () => res.json({ ok: true }),
        (error: { status: number }) => res.status(error.status).json({ ok: false }),
      );
    });
    await request(app).get("/healthz").expect(200, { ok: true });
    await sessions.close();
    await stores.cleanup();
  });
});

// Issue 19, I3: distinct causes of one kind of fault are each logged, and a claim
// invalidations poll that fails does not hold revocations back.
describeEachStore("faults in the log", (stores) => {
  const failure = (code: string, errno?: number) => Object.assign(new Error(`simulated ${code}`), { code, ...(errno ? { errno } : {}) });
  function codes() {
    const lines: { level: string; message: string; code?: unknown }[] = [];
    const logger = {
      warn: (message: string) => void lines.push({ level: "warn", message }),
      error: (message: string, error?: unknown) => void lines.push({ level: "error", message, code: (error as { code?: unknown } | undefined)?.code }),
      debug: () => {},
    };
    return { lines, logger };
  }

  it("logs each distinct cause of one kind of fault, each once while it lasts", async () => {
    const log = codes();
    const store = stores.create();
    const { app, sessions } = createApp({ store, logger: log.logger });
    await sessions.ready();
    let calls = 0;
    Object.assign(store, {
      createSession: async () => {
        throw calls++ % 2 === 0 ? failure("ECONNREFUSED") : failure("ER_NO_SUCH_TABLE", 1146);
      },
    });
    for (let i = 0; i < 6; i++) await request(app).post("/login").send({ userId: `u${i}` }).expect(503);
    expect(log.lines.filter((line) => line.level === "error")).toEqual([
      { level: "error", message: "could not store a new session", code: "ECONNREFUSED" },
      { level: "error", message: "could not store a new session", code: "ER_NO_SUCH_TABLE" },
    ]);
    await sessions.close();
  });

  it("keeps reading revocations, from a moving position, while claim invalidations cannot be read, and says why", async () => {
    const [storeA, storeB] = stores.pair();
    const a = createApp({ store: storeA });
    const { access, handle } = await login(a.app);
    const log = codes();
    const positions: number[] = [];
    const listRevokedSince = storeB.listRevokedSince.bind(storeB);
    const b = createApp({ store: storeB, logger: log.logger });
    await b.sessions.ready();
    Object.assign(storeB, {
      listClaimInvalidationsSince: async () => {
        throw failure("ER_NO_SUCH_TABLE", 1146);
      },
      listRevokedSince: (since: { revokedAt: number; handle: string }, limit: number) => {
        positions.push(since.revokedAt);
        return listRevokedSince(since, limit);
      },
    });
    await request(b.app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    await a.sessions.revokeSession(handle);
    await new Promise((resolve) => setTimeout(resolve, 4_500)); // two polls
    await request(b.app).get("/api/me").set("Cookie", accessCookie(access)).expect(401);
    expect(positions.length).toBeGreaterThanOrEqual(2);
    expect(positions.at(-1)).toBeGreaterThan(positions[0] as number);
    expect(log.lines.filter((line) => line.level === "error")).toEqual([
      {
        level: "error",
        message: "could not read claim invalidations; revocations are still read, and the invalidations will be read from where they stopped once they can be",
        code: "ER_NO_SUCH_TABLE",
      },
    ]);
    await a.sessions.close();
    await b.sessions.close();
  }, 15_000);

  it("lets a new instance start, refusing recently revoked sessions, while claim invalidations cannot be read", async () => {
    const [storeA, storeB] = stores.pair();
    const a = createApp({ store: storeA });
    const revoked = await login(a.app, "u1");
    const live = await login(a.app, "u2");
    await a.sessions.revokeSession(revoked.handle);
    Object.assign(storeB, {
      listClaimInvalidationsSince: async () => {
        throw failure("ER_NO_SUCH_TABLE", 1146);
      },
    });
    const b = createApp({ store: storeB });
    await expect(b.sessions.ready()).resolves.toBeUndefined();
    await request(b.app).get("/api/me").set("Cookie", accessCookie(revoked.access)).expect(401);
    await request(b.app).get("/api/me").set("Cookie", accessCookie(live.access)).expect(200);
    await a.sessions.close();
    await b.sessions.close();
  });
});
