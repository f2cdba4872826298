import { errorHandler, mysqlStore, sessionMiddleware, verifySession } from "../lib";
import express from "express";
import { accessCookie, DATABASE_URL, expectCleared, login, refreshCookie, request, StoreFactory, tokensOf } from "./helpers";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy";

// The database is broken for real, through a TCP proxy the spec controls.
const QUERY_TIMEOUT_MS = 800;

describe("database outage", () => {
  const stores = new StoreFactory("mysql");
  let proxy: TcpProxy;
  const url = new URL(DATABASE_URL);

  beforeEach(async () => {
    proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
  });
  afterEach(async () => {
    await proxy.close();
  });
  afterAll(() => stores.cleanup());

  function appThroughProxy() {
    const prefix = stores.newPrefix();
    const store = mysqlStore(
      {
        host: "127.0.0.1",
        port: proxy.port,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.slice(1),
        connectTimeout: 1000,
      },
      { tablePrefix: prefix, queryTimeoutMs: QUERY_TIMEOUT_MS },
    );
    const sessions = sessionMiddleware({ store, logger: false });
    const app = express();
    app.use(express.json());
    app.use(sessions);
    app.post("/login", async (req, res, next) => {
      try {
        await res.createSession(req.body.userId);
        res.json({ ok: true });
      } catch (error) {
        next(error);
      }
    });
    app.get("/api/me", verifySession(), (req, res) => res.json({ userId: req.session!.userId }));
    app.get("/api/strict", verifySession({ checkDatabase: true }), (req, res) => res.json({ userId: req.session!.userId }));
    app.use(errorHandler());
    return { app, sessions };
  }

  async function expectServiceDown(app: express.Express, tokens: { access: string; refresh: string }) {
    const started = Date.now();
    // Verification needs no I/O: it keeps working.
    await request(app).get("/api/me").set("Cookie", accessCookie(tokens.access)).expect(200);

    const loginRes = await request(app).post("/login").send({ userId: "new-user" }).expect(503);
    expect(loginRes.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
    expect(loginRes.headers["set-cookie"]).toBeUndefined();

    const refreshRes = await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(tokens.refresh)).expect(503);
    expect(refreshRes.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
    expect(refreshRes.headers["set-cookie"]).toBeUndefined();
    expect(refreshRes.headers["front-token"]).toBeUndefined();

    const strict = await request(app).get("/api/strict").set("Cookie", accessCookie(tokens.access)).expect(503);
    expect(strict.body.code).toBe("STORE_UNAVAILABLE");
    return Date.now() - started;
  }

  it.each(["refused", "stalled"] as const)("keeps verifying, answers 503 for writes, and recovers by itself: connections %s", async (kind) => {
    const { app, sessions } = appThroughProxy();
    const before = await login(app, "user-1");

    if (kind === "refused") await proxy.refuse();
    else proxy.stall();
    const elapsed = await expectServiceDown(app, before);
    // Four requests that touch the store, each bounded by the connect or query timeout.
    expect(elapsed).toBeLessThan(4 * (1000 + QUERY_TIMEOUT_MS) + 2000);

    // Sign-out answers 503 and still clears this device's tokens.
    const signout = await request(app).post("/auth/signout").set("Cookie", accessCookie(before.access)).expect(503);
    expect(signout.body.code).toBe("STORE_UNAVAILABLE");
    expectCleared(signout, "sAccessToken", "/");
    expect(signout.headers["front-token"]).toBe("remove");

    await proxy.pass();
    // The same process serves logins and refreshes again, and old sessions still work.
    let recovered = false;
    for (let attempt = 0; attempt < 20 && !recovered; attempt++) {
      recovered = (await request(app).post("/login").send({ userId: "user-2" })).status === 200;
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(recovered).toBe(true);
    const refreshed = await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(before.refresh)).expect(200);
    await request(app).get("/api/strict").set("Cookie", accessCookie(tokensOf(refreshed).access)).expect(200);
    await sessions.close();
  });

  it("answers 503 when the database is down at start-up, and serves once it is up", async () => {
    await proxy.refuse();
    const { app, sessions } = appThroughProxy();
    const down = await request(app).post("/login").send({ userId: "user-1" }).expect(503);
    expect(down.body.code).toBe("STORE_UNAVAILABLE");
    const jwks = await request(app).get("/auth/jwt/jwks.json").expect(503);
    expect(jwks.body.code).toBe("STORE_UNAVAILABLE");
    // Without keys in memory even verification must wait for the database.
    await request(app).get("/api/me").set("Cookie", "sAccessToken=x.y.z").expect(503);
    await proxy.pass();
    const { access } = await login(app, "user-1");
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    await sessions.close();
  });
});
