import { mysqlStore } from "../lib";
import { createApp, DATABASE_URL, request, setCookies } from "./helpers";
import { cookieFlow } from "./support/supertokens-core";
import { coreSuite, HANDLE, LOGIN_AT, refreshWithCookie } from "./support/supertokens-suite";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy";

// Reference B.7 "DB down": a migration while the database is broken for real (a TCP proxy
// the spec controls) answers 503 and keeps the tokens; a COMMIT whose reply was lost is
// decided again, never taken for theft; and a latchkey instance without the option (as 0.2.0
// runs) refreshes a migrated session's latchkey token.
const suite = coreSuite();
const url = new URL(DATABASE_URL);
let proxy: TcpProxy;

beforeEach(async () => {
  proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
});
afterEach(async () => {
  proxy.thaw();
  await proxy.close();
});

function proxiedApp(clock: { now: number }, options: Record<string, unknown> = {}) {
  const store = mysqlStore(
    { host: "127.0.0.1", port: proxy.port, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: url.pathname.slice(1), connectTimeout: 1000 },
    { tablePrefix: suite.lk, queryTimeoutMs: 1000 },
  );
  const app = createApp({ store, clock: () => clock.now, migrateFromSuperTokens: { tablePrefix: suite.core.prefix }, ...options });
  return app;
}

describe("a migration while the database is broken", () => {
  it("answers 503 STORE_UNAVAILABLE with the tokens kept and the core row intact; the retry migrates once it is back", async () => {
    await suite.fresh(cookieFlow.loginRow);
    const clock = { now: LOGIN_AT + 10_000 };
    const app = proxiedApp(clock);
    try {
      await app.sessions.ready();
      await proxy.refuse();
      const down = await refreshWithCookie(app, cookieFlow.RT0).expect(503);
      expect(down.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
      expect(down.headers["set-cookie"]).toBeUndefined();
      expect(await suite.core.row(HANDLE)).toBeDefined();
      await proxy.pass();
      clock.now += 60_000;
      await refreshWithCookie(app, cookieFlow.RT0).expect(200);
      expect(app.events.theft).toEqual([]);
    } finally {
      await app.sessions.close();
    }
  });

  it("answers 200 with the successor when the migration's COMMIT reply is lost, even past refreshGrace (decided again under the locks)", async () => {
    await suite.fresh(cookieFlow.loginRow);
    // A clock that runs: the lost reply costs the call's deadline (1 s), ten times refreshGrace.
    const started = Date.now();
    const clock = {
      get now() {
        return LOGIN_AT + 10_000 + (Date.now() - started);
      },
    };
    const app = proxiedApp(clock, { refreshGrace: "100ms" });
    try {
      await app.sessions.ready();
      proxy.loseCommitReplies();
      const seen = proxy.commitSeen();
      const res = await refreshWithCookie(app, cookieFlow.RT0).expect(200);
      await seen; // that COMMIT's reply really was lost
      expect(await suite.core.row(HANDLE)).toBeUndefined();
      expect(setCookies(res).get("sRefreshToken")?.value).toMatch(/^feeb4402-/);
      expect(app.events.theft).toEqual([]);
      expect(app.events.refreshed).toEqual([expect.objectContaining({ handle: HANDLE, migrated: true })]);
    } finally {
      await app.sessions.close();
    }
  });
});

it("an instance without migrateFromSuperTokens (as 0.2.0 runs) refreshes a migrated session's latchkey token", async () => {
  await suite.fresh(cookieFlow.loginRow);
  const migrating = suite.app();
  const successor = setCookies(await refreshWithCookie(migrating, cookieFlow.RT0).expect(200)).get("sRefreshToken")?.value ?? "";
  const plain = createApp({ store: mysqlStore(DATABASE_URL, { tablePrefix: suite.lk }), clock: () => LOGIN_AT + 70_000 });
  try {
    const res = await request(plain.app).post("/auth/session/refresh").set("Cookie", `sRefreshToken=${successor}`).expect(200);
    const access = setCookies(res).get("sAccessToken")?.value ?? "";
    expect((await request(plain.app).get("/api/me").set("Cookie", `sAccessToken=${access}`).expect(200)).body.userId).toBe("user-cookie-1");
    // The core token means nothing to it: refused, and never theft.
    expect((await request(plain.app).post("/auth/session/refresh").set("Cookie", `sRefreshToken=${encodeURIComponent(cookieFlow.RT0)}`).expect(401)).body).toEqual({ message: "unauthorised" });
    expect(plain.events.theft).toEqual([]);
  } finally {
    await plain.sessions.close();
  }
});
