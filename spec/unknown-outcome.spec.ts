import mysql from "mysql2/promise";
import type { Pool, PoolConnection } from "mysql2/promise";
import { mysqlStore, type SessionStore } from "../lib";
import { accessCookie, createApp, DATABASE_URL, fakeClock, login, refreshCookie, request, sha256, StoreFactory, tokensOf, type TestApp } from "./helpers";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy";

// Issue 11 items 1–2 on a real server: write conflicts and lock waits are retried inside
// one deadline; a refresh whose COMMIT went unanswered is resolved by reading, and a client
// retrying its token after a 503 is never taken for a thief.
const TIMEOUT_MS = 1000;
const REFRESH = "/auth/session/refresh";

describe("answers whose outcome is unknown", () => {
  const stores = new StoreFactory("mysql");
  const url = new URL(DATABASE_URL);
  let proxy: TcpProxy;
  let opened: SessionStore[] = [];

  beforeEach(async () => {
    proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
  });
  afterEach(async () => {
    proxy.thaw();
    for (const store of opened.splice(0)) await store.close();
    await proxy.close();
  });
  afterAll(() => stores.cleanup());

  /** An instance whose store goes through the proxy, and one beside it that does not. */
  function instances(prefix = stores.newPrefix(), clock = fakeClock(Date.now())) {
    const proxied = mysqlStore(
      { host: "127.0.0.1", port: proxy.port, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1), connectTimeout: 1000 },
      { tablePrefix: prefix, queryTimeoutMs: TIMEOUT_MS },
    );
    const direct = mysqlStore(DATABASE_URL, { tablePrefix: prefix });
    opened = [...opened, proxied, direct];
    return { clock, a: createApp({ store: proxied, clock: clock.now }), b: createApp({ store: direct, clock: clock.now }), direct };
  }

  const refresh = (fixture: TestApp, token: string) => request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token));

  it("answers 200 with the successor when the COMMIT's reply is lost but the rotation landed (resolved by reading)", async () => {
    const { a, b } = instances();
    const { refresh: token } = await login(a.app);
    proxy.loseCommitReplies();
    const seen = proxy.commitSeen();
    const res = await refresh(a, token).expect(200);
    await seen; // the reply to that COMMIT really was lost
    const successor = tokensOf(res).refresh;
    // It is the rotation that landed: the successor is current everywhere, and the old token earns it again within the window.
    await refresh(b, successor).expect(200);
    expect(a.events.theft).toEqual([]);
  });

  it("answers 503 when the node stalls across the COMMIT, and honours the client's retry 12 s later, on any instance", async () => {
    const { a, b, direct, clock } = instances();
    const { refresh: token, handle } = await login(a.app);
    proxy.freezeFromCommit();
    const seen = proxy.commitSeen();
    const stalled = await refresh(a, token).expect(503);
    await seen;
    expect(stalled.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
    expect(stalled.headers["set-cookie"]).toBeUndefined(); // tokens kept: the client can retry

    // The node comes back and applies the COMMIT it had received: the rotation landed after
    // the client was told 503. This instance's background resolution records that.
    proxy.thaw();
    await waitFor(async () => (await direct.findSession(handle))?.undelivered === true);

    clock.advance(12_000); // past the 10 s grace window
    const retry = await refresh(b, token).expect(200); // another instance, which knows nothing of the 503
    expect(a.events.theft).toEqual([]);
    expect(b.events.theft).toEqual([]);
    // ...and it is the successor the lost rotation stored, so nothing forked.
    await request(b.app).get("/api/me").set("Cookie", accessCookie(tokensOf(retry).access)).expect(200);
    await refresh(b, tokensOf(retry).refresh).expect(200);
    // Having been delivered now, the old token is theft again once the window passes.
    clock.advance(12_000);
    const late = await refresh(b, token).expect(401);
    expect(late.body).toEqual({ message: "token theft detected" });
  }, 30_000);

  // Issue 19, UO1: the client's retry reached another instance first, within the window,
  // and got the successor there; the 503'd instance resolves only afterwards.
  it("does not mark the successor undelivered once another instance delivered it: the old token after the window is theft", async () => {
    const { a, b, direct, clock } = instances();
    const { refresh: token, handle } = await login(a.app);
    proxy.freezeFromCommit();
    const seen = proxy.commitSeen();
    await refresh(a, token).expect(503);
    await seen;
    // The node applies the COMMIT, but this instance hears nothing yet: its resolution waits.
    proxy.thaw();
    proxy.stall();
    clock.advance(1000);
    const retry = await refresh(b, token).expect(200); // within the window, on another instance
    await proxy.pass();
    await new Promise((resolve) => setTimeout(resolve, 3_000)); // A's resolution runs (every second, 1 s deadline)
    expect((await direct.findSession(handle))?.undelivered).toBe(false);

    clock.advance(12_000); // past the 10 s grace window
    const late = await refresh(b, token).expect(401);
    expect(late.body).toEqual({ message: "token theft detected" });
    expect(tokensOf(retry).refresh).not.toBe(token);
  }, 30_000);

  it("resolves on the same instance too: the client's retry there earns the successor", async () => {
    const { a, clock } = instances();
    const { refresh: token } = await login(a.app);
    proxy.freezeFromCommit();
    await refresh(a, token).expect(503);
    proxy.thaw();
    clock.advance(12_000);
    await refresh(a, token).expect(200);
    expect(a.events.theft).toEqual([]);
  }, 30_000);
});

describe("lock waits on a real server", () => {
  const stores = new StoreFactory("mysql");
  let admin: mysql.Connection;
  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: DATABASE_URL });
  });
  afterAll(async () => {
    await admin.end();
    await stores.cleanup();
  });

  async function holdRow(prefix: string, handle: string): Promise<mysql.Connection> {
    const holder = await mysql.createConnection({ uri: DATABASE_URL });
    await holder.query("START TRANSACTION");
    await holder.query(`SELECT * FROM \`${prefix}sessions\` WHERE session_handle = ? FOR UPDATE`, [handle]);
    return holder;
  }

  it("retries a refresh past the server's lock wait (1205) and succeeds once the lock goes, inside its deadline", async () => {
    const prefix = stores.newPrefix();
    const fixture = createApp({ store: mysqlStore(DATABASE_URL, { tablePrefix: prefix, queryTimeoutMs: 5000 }) });
    const { refresh: token, handle } = await login(fixture.app);
    const holder = await holdRow(prefix, handle);
    // The server gives up waiting after 2 s (half the deadline, rounded down), latchkey retries.
    setTimeout(() => void holder.query("COMMIT").then(() => holder.end()), 3000);
    const res = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token)).expect(200);
    expect(tokensOf(res).refresh).not.toBe(token);
    await fixture.sessions.close();
  });

  it("cancels its statement on the server when it gives up: no abandoned SELECT … FOR UPDATE keeps waiting", async () => {
    const prefix = stores.newPrefix();
    const fixture = createApp({ store: mysqlStore(DATABASE_URL, { tablePrefix: prefix, queryTimeoutMs: 1500 }) });
    const { refresh: token, handle } = await login(fixture.app);
    const holder = await holdRow(prefix, handle);
    const res = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token)).expect(503);
    expect(res.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
    await waitFor(async () => {
      const [rows] = await admin.query(
        "SELECT COUNT(*) AS waiting FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND INFO LIKE '%FOR UPDATE%' AND ID <> CONNECTION_ID()",
        [`%${prefix}sessions%`],
      );
      return Number((rows as { waiting: number }[])[0]?.waiting) === 0;
    });
    await holder.query("COMMIT");
    await holder.end();
    await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token)).expect(200);
    await fixture.sessions.close();
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("a refresh whose COMMIT fails rolls back [mysql store]", () => {
  const stores = new StoreFactory("mysql");
  afterAll(() => stores.cleanup());

  it("#78 keeps the presented token current when the connection dies between UPDATE and COMMIT", async () => {
    const pool = mysql.createPool({ uri: DATABASE_URL, connectionLimit: 4 });
    let failCommit = false;
    const wrapConnection = (conn: PoolConnection) =>
      new Proxy(conn, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          if (property === "query") {
            return (options: unknown, ...rest: unknown[]) => {
              const sql = typeof options === "string" ? options : (options as { sql: string }).sql;
              if (failCommit && sql === "COMMIT") {
                target.destroy(); // the server rolls the open transaction back
                return Promise.reject(Object.assign(new Error("Connection lost before COMMIT"), { code: "PROTOCOL_CONNECTION_LOST" }));
              }
              return (value as (...args: unknown[]) => unknown).call(target, options, ...rest);
            };
          }
          return typeof value === "function" ? value.bind(target) : value;
        },
      });
    const wrapped = new Proxy(pool, {
      get(target, property) {
        if (property === "getConnection") return async () => wrapConnection(await target.getConnection());
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Pool;
    const store = mysqlStore(wrapped, { tablePrefix: stores.newPrefix() });
    try {
      const { app, events } = createApp({ store });
      const { refresh, handle } = await login(app);
      failCommit = true;
      const failed = await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(503);
      expect(failed.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
      expect(failed.headers["set-cookie"]).toBeUndefined();
      failCommit = false;

      const row = await store.findSession(handle);
      expect(row?.refreshTokenHash.toString("hex")).toBe(sha256(refresh).toString("hex"));
      expect([row?.prevRefreshTokenHash, row?.rotatedAt]).toEqual([null, null]);
      const next = tokensOf(await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)).expect(200));
      await request(app).post(REFRESH).set("Cookie", refreshCookie(next.refresh)).expect(200);
      expect(events.theft).toEqual([]);
    } finally {
      await store.close();
      await pool.end();
    }
  });
});
