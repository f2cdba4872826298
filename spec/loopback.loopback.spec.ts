import { inject, intercept } from "@loopback/core";
import { get, post, requestBody, RestApplication, RestBindings, type Request, type Response } from "@loopback/rest";
import { mysqlStore, sessionMiddleware, type SessionMiddleware, type SessionMiddlewareOptions } from "../lib";
import { accessCookie, DATABASE_URL, describeEachStore, expectCleared, fakeClock, refreshCookie, request, setCookies, StoreFactory, tokensOf } from "./helpers";
import { mountLatchkey, requireSession } from "./support/loopback-recipe";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy";
import type { Response as TestResponse } from "supertest";

// A real LoopBack 4 app (@loopback/rest, its own Express 4 inside) with latchkey mounted by the
// docs/recipes/loopback.md recipe (spec/support/loopback-recipe.ts), driven over HTTP.

const UNAUTHORISED = { message: "unauthorised" };
const TRY_REFRESH = { message: "try refresh token" };
/** strong-error-handler's body, which LoopBack's reject action writes for an error without the recipe's middleware. */
const loopbackBody = (statusCode: number, code: string, message: string) => ({ error: { statusCode, name: "SessionError", message, code } });

class AppController {
  constructor(
    @inject(RestBindings.Http.REQUEST) private readonly req: Request,
    @inject(RestBindings.Http.RESPONSE) private readonly res: Response,
  ) {}

  @post("/login")
  async login(@requestBody() body: { userId: string }) {
    const session = await this.res.createSession(body.userId);
    return { message: "User logged in!", handle: session.handle };
  }

  @get("/public")
  public() {
    return { ok: true };
  }

  @get("/api/me")
  @intercept(requireSession())
  me() {
    return { userId: this.req.session!.userId, handle: this.req.session!.handle };
  }

  @get("/api/optional")
  @intercept(requireSession({ sessionRequired: false }))
  optional() {
    return { userId: this.req.session?.userId ?? null };
  }

  @get("/api/strict")
  @intercept(requireSession({ checkDatabase: true }))
  strict() {
    return { userId: this.req.session!.userId };
  }
}

interface LoopBackHarness {
  app: RestApplication;
  sessions: SessionMiddleware;
  handler: RestApplication["requestHandler"];
}

async function startLoopBack(options: SessionMiddlewareOptions, recipe: "whole recipe" | "no error middleware" = "whole recipe"): Promise<LoopBackHarness> {
  const sessions = sessionMiddleware({ logger: false, ...options });
  const app = new RestApplication({ rest: { listenOnStart: false } });
  if (recipe === "whole recipe") mountLatchkey(app, sessions);
  else app.expressMiddleware("middleware.latchkey", sessions as never);
  app.controller(AppController);
  await app.start();
  return { app, sessions, handler: app.requestHandler };
}

async function stop(h: LoopBackHarness): Promise<void> {
  await h.app.stop();
  await h.sessions.close();
}

async function login(h: LoopBackHarness, userId: string) {
  const res = await request(h.handler).post("/login").send({ userId }).expect(200);
  expect(res.body).toEqual({ message: "User logged in!", handle: expect.any(String) });
  return { ...tokensOf(res), handle: res.body.handle as string, res };
}

function expectTokensCleared(res: TestResponse): void {
  expectCleared(res, "sAccessToken", "/");
  expectCleared(res, "sRefreshToken", "/auth/session/refresh");
  expect(res.headers["front-token"]).toBe("remove");
}

describeEachStore("LoopBack 4: the docs/recipes/loopback.md recipe", (stores) => {
  const clock = fakeClock();
  let h: LoopBackHarness;
  beforeAll(async () => {
    h = await startLoopBack({ store: stores.create(), clock: clock.now, accessTokenTtl: "2s" });
  });
  afterAll(() => stop(h));

  it("logs in through a LoopBack controller (res.createSession on the injected Express response): latchkey's cookies and front-token", async () => {
    const { res, access, refresh, handle } = await login(h, "user-1");
    expect(access).not.toBe("");
    expect(refresh).not.toBe("");
    expect([...setCookies(res).keys()].sort()).toEqual(["sAccessToken", "sRefreshToken"]);
    expect(setCookies(res).get("sAccessToken")!.attributes).toMatchObject({ path: "/", httponly: true });
    expect(setCookies(res).get("sRefreshToken")!.attributes).toMatchObject({ path: "/auth/session/refresh", httponly: true });
    expect(res.headers["front-token"]).toEqual(expect.any(String));
    const me = await request(h.handler).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    expect(me.body).toEqual({ userId: "user-1", handle });
  });

  it("a guarded route without a token: 401 unauthorised, nothing cleared", async () => {
    const res = await request(h.handler).get("/api/me");
    expect(res.status).toBe(401);
    expect(res.text).toBe('{"message":"unauthorised"}');
    expect(res.headers["set-cookie"]).toBeUndefined();
    // Unguarded routes are not touched.
    await request(h.handler).get("/public").expect(200, { ok: true });
  });

  it("a forged token: 401 unauthorised with the tokens cleared", async () => {
    const res = await request(h.handler).get("/api/me").set("Cookie", accessCookie("x.y.z"));
    expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
    expectTokensCleared(res);
  });

  it("an expired access token: 401 try refresh token; POST /auth/session/refresh, served inside LoopBack, then works", async () => {
    const { access, refresh } = await login(h, "user-expiring");
    clock.advance(3000);
    const expired = await request(h.handler).get("/api/me").set("Cookie", accessCookie(access));
    expect(expired.status).toBe(401);
    expect(expired.text).toBe('{"message":"try refresh token"}');
    expect(expired.headers["set-cookie"]).toBeUndefined();
    const optional = await request(h.handler).get("/api/optional").set("Cookie", accessCookie(access));
    expect([optional.status, optional.body]).toEqual([401, TRY_REFRESH]);

    const refreshed = await request(h.handler).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(200);
    expect(refreshed.body).toEqual({});
    const next = tokensOf(refreshed);
    expect(next.access).not.toBe(access);
    expect(next.refresh).not.toBe(refresh);
    const me = await request(h.handler).get("/api/me").set("Cookie", accessCookie(next.access)).expect(200);
    expect(me.body.userId).toBe("user-expiring");
    // The JWKS endpoint is served too.
    const jwks = await request(h.handler).get("/auth/jwt/jwks.json").expect(200);
    expect(jwks.body.keys).toEqual(expect.arrayContaining([expect.objectContaining({ kty: expect.any(String) })]));
  });

  it("sessionRequired: false lets anonymous requests through", async () => {
    await request(h.handler).get("/api/optional").expect(200, { userId: null });
  });

  it("sign-out: 200 {status: OK}, cookies cleared, and the session is gone for checkDatabase", async () => {
    const { access } = await login(h, "user-signout");
    await request(h.handler).get("/api/strict").set("Cookie", accessCookie(access)).expect(200, { userId: "user-signout" });
    const out = await request(h.handler).post("/auth/signout").set("Cookie", accessCookie(access));
    expect([out.status, out.body]).toEqual([200, { status: "OK" }]);
    expectTokensCleared(out);
    const after = await request(h.handler).get("/api/strict").set("Cookie", accessCookie(access));
    expect([after.status, after.body]).toEqual([401, UNAUTHORISED]);
  });

  it("a cross-origin login: 403 from res.createSession, answered by the recipe's middleware, no cookies set", async () => {
    const res = await request(h.handler).post("/login").set("Origin", "https://evil.example").send({ userId: "user-x" });
    expect([res.status, res.body]).toEqual([403, { message: "cross-origin request refused", code: "CROSS_ORIGIN_REQUEST" }]);
    expect(res.headers["set-cookie"]).toBeUndefined();
  });
});

// Without the recipe's middleware, LoopBack's reject action (strong-error-handler) answers: it reads
// the http-errors shape of a SessionError (statusCode, expose), so the status is latchkey's and the
// SDK still refreshes on the 401, but the body is LoopBack's and dead cookies are not cleared.
describeEachStore("LoopBack 4 without the recipe's SessionError middleware", (stores) => {
  const clock = fakeClock();
  let h: LoopBackHarness;
  beforeAll(async () => {
    h = await startLoopBack({ store: stores.create(), clock: clock.now, accessTokenTtl: "2s" }, "no error middleware");
  });
  afterAll(() => stop(h));

  it("keeps latchkey's statuses in strong-error-handler's body, and clears nothing", async () => {
    const none = await request(h.handler).get("/api/me");
    expect([none.status, none.body]).toEqual([401, loopbackBody(401, "UNAUTHORISED", "unauthorised")]);
    const forged = await request(h.handler).get("/api/me").set("Cookie", accessCookie("x.y.z"));
    expect([forged.status, forged.body]).toEqual([401, loopbackBody(401, "UNAUTHORISED", "unauthorised")]);
    expect(setCookies(forged).size).toBe(0);

    const { access } = await login(h, "user-1");
    clock.advance(3000);
    const expired = await request(h.handler).get("/api/me").set("Cookie", accessCookie(access));
    expect([expired.status, expired.body]).toEqual([401, loopbackBody(401, "TRY_REFRESH_TOKEN", "try refresh token")]);

    const cross = await request(h.handler).post("/login").set("Origin", "https://evil.example").send({ userId: "user-x" });
    expect([cross.status, cross.body]).toEqual([403, loopbackBody(403, "CROSS_ORIGIN_REQUEST", "cross-origin request refused")]);
  });
});

// The store fails for real: MySQL through a TCP proxy that then refuses every connection.
describe("LoopBack 4 with the session store down", () => {
  const stores = new StoreFactory("mysql");
  const url = new URL(DATABASE_URL);
  let proxy: TcpProxy;
  let h: LoopBackHarness;
  let bare: LoopBackHarness;

  const storeThroughProxy = () =>
    mysqlStore(
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
  beforeAll(async () => {
    proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
    h = await startLoopBack({ store: storeThroughProxy() });
    bare = await startLoopBack({ store: storeThroughProxy() }, "no error middleware");
  });
  afterAll(async () => {
    await stop(h);
    await stop(bare);
    await proxy.close();
    await stores.cleanup();
  });

  it("answers 503 STORE_UNAVAILABLE from the interceptor (checkDatabase) and the login controller through the recipe's middleware", async () => {
    const { access } = await login(h, "user-1");
    await proxy.refuse();
    const strict = await request(h.handler).get("/api/strict").set("Cookie", accessCookie(access));
    expect(strict.status).toBe(503);
    expect(strict.text).toBe('{"message":"session store unavailable","code":"STORE_UNAVAILABLE"}');
    expect(strict.headers["set-cookie"]).toBeUndefined();
    const again = await request(h.handler).post("/login").send({ userId: "user-2" });
    expect([again.status, again.body]).toEqual([503, { message: "session store unavailable", code: "STORE_UNAVAILABLE" }]);
    expect(again.headers["set-cookie"]).toBeUndefined();
    // Verification needs no I/O: routes without checkDatabase keep working.
    await request(h.handler).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
  });

  it("without the recipe's middleware the outage is still a 503, in strong-error-handler's body with the message hidden, and LoopBack logs it", async () => {
    await proxy.pass();
    const { access } = await login(bare, "user-3");
    const logged = jest.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      await proxy.refuse();
      const strict = await request(bare.handler).get("/api/strict").set("Cookie", accessCookie(access));
      expect([strict.status, strict.body]).toEqual([503, { error: { statusCode: 503, message: "Service Unavailable" } }]);
      expect(logged).toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });
});
