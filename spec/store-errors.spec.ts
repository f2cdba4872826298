import { mysqlStore, type RefusedEvent } from "../lib";
import { accessCookie, createApp, DATABASE_URL, login, refreshCookie, request, StoreFactory } from "./helpers";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy";

// Issue 22 item 3: 878 failed refreshes showed as 3 log lines and fired no hook. Every
// refusal (a 503 included) reaches onRefused, and every failed store call onStoreError.
const BACKGROUND_OPERATIONS = new Set(["listRevokedSince", "listClaimInvalidationsSince", "listSigningKeys"]);

describe("store failures reach the hooks", () => {
  const stores = new StoreFactory("mysql");
  const url = new URL(DATABASE_URL);
  let proxy: TcpProxy;

  beforeEach(async () => {
    proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
  });
  afterEach(() => proxy.close());
  afterAll(() => stores.cleanup());

  function fixture() {
    const refused: RefusedEvent[] = [];
    const storeErrors: { error: unknown; operation: string }[] = [];
    const store = mysqlStore(
      {
        host: "127.0.0.1",
        port: proxy.port,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.slice(1),
        connectTimeout: 1000,
      },
      { tablePrefix: stores.newPrefix(), queryTimeoutMs: 800 },
    );
    const app = createApp({
      store,
      cleanupInterval: false,
      onRefused: (event) => void refused.push(event),
      onStoreError: (error, operation) => void storeErrors.push({ error, operation }),
    });
    // Requests' failures; the background poll fails on its own every 2 s meanwhile.
    const requestErrors = () => storeErrors.filter(({ operation }) => !BACKGROUND_OPERATIONS.has(operation));
    return { ...app, refused, storeErrors, requestErrors };
  }

  it("20 refreshes during an outage: 20 onRefused events with code STORE_UNAVAILABLE and 20 onStoreError calls naming the operation", async () => {
    const { app, sessions, refused, storeErrors, requestErrors } = fixture();
    const { refresh } = await login(app, "user-1");
    expect([refused, storeErrors]).toEqual([[], []]);

    await proxy.refuse();
    for (let i = 0; i < 20; i++) {
      const res = await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(503);
      expect(res.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
    }

    expect(refused).toHaveLength(20);
    for (const event of refused) {
      expect(event).toEqual({
        kind: "refresh",
        code: "STORE_UNAVAILABLE",
        reason: "the session store failed",
        method: "POST",
        path: "/auth/session/refresh",
        clientIp: expect.any(String),
        clientUserAgent: null,
        at: expect.any(Number),
      });
    }
    // One per request, not per retry: the refresh's one locked UPDATE, with the driver's error.
    expect(requestErrors().map(({ operation }) => operation)).toEqual(Array(20).fill("updateSession"));
    for (const { error } of requestErrors()) expect(error).toEqual(expect.objectContaining({ code: expect.any(String), message: expect.any(String) }));
    // Whatever else failed meanwhile was the background poll, reported as such.
    for (const { operation } of storeErrors) expect(operation).toMatch(/^(updateSession|listRevokedSince|listClaimInvalidationsSince|listSigningKeys)$/);
    await proxy.pass();
    await sessions.close();
  });

  it("a login and a checkDatabase route during an outage: each one onRefused and one onStoreError", async () => {
    const { app, sessions, refused, requestErrors } = fixture();
    const { access } = await login(app, "user-1");
    await proxy.refuse();

    await request(app).post("/login").send({ userId: "user-2" }).expect(503, { message: "session store unavailable", code: "STORE_UNAVAILABLE" });
    await request(app).get("/api/strict").set("Cookie", accessCookie(access)).expect(503);

    expect(refused.map(({ code, method, path }) => [code, method, path])).toEqual([
      ["STORE_UNAVAILABLE", "POST", "/login"],
      ["STORE_UNAVAILABLE", "GET", "/api/strict"],
    ]);
    expect(requestErrors().map(({ operation }) => operation)).toEqual(["createSession", "findSession"]);
    await proxy.pass();
    await sessions.close();
  });

  it("a hook that throws is logged and changes no answer", async () => {
    const lines: string[] = [];
    const store = mysqlStore(`mysql://${url.username}${url.password ? `:${url.password}` : ""}@127.0.0.1:${proxy.port}${url.pathname}`, {
      tablePrefix: stores.newPrefix(),
      queryTimeoutMs: 800,
    });
    const { app, sessions } = createApp({
      store,
      cleanupInterval: false,
      logger: { warn: (message) => void lines.push(message), error: (message) => void lines.push(message) },
      onStoreError: () => {
        throw new Error("hook bug");
      },
    });
    const { refresh } = await login(app, "user-1");
    await proxy.refuse();
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(503);
    expect(lines).toContain("hook onStoreError threw");
    await proxy.pass();
    await sessions.close();
  });
});
