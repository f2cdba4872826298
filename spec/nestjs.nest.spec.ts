import "reflect-metadata";
import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  Module,
  Post,
  Req,
  Res,
  type DynamicModule,
  type INestApplication,
  type Provider,
} from "@nestjs/common";
import { APP_FILTER, APP_GUARD, NestFactory } from "@nestjs/core";
import type { NestExpressApplication } from "@nestjs/platform-express";
import express from "express";
import type { Request, Response } from "express";
import type { Server } from "node:http";
import {
  BooleanClaim,
  errorHandler,
  mysqlStore,
  sessionManager,
  sessionMiddleware,
  verifySession,
  type Session,
  type SessionMiddleware,
  type SessionMiddlewareOptions,
} from "../lib";
import {
  accessCookie,
  DATABASE_URL,
  describeEachStore,
  expectCleared,
  fakeClock,
  refreshCookie,
  request,
  setCookies,
  StoreFactory,
  tokensOf,
} from "./helpers";
import { CurrentSession, RequireSession, SessionErrorFilter, SessionGuard } from "./support/nest-recipe";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy";
import type { Response as TestResponse } from "supertest";

// A real NestJS 11 app (platform-express, its own Express 5) guarded by the README recipe
// (spec/support/nest-recipe.ts), driven over HTTP. Each answer must be the one
// verifySession() gives on plain Express: same status, body, cookies and front-token.

const EmailVerified = new BooleanClaim({ key: "st-ev", fetchValue: (userId) => !userId.startsWith("unverified") });
const ACCESS_TTL_MS = 15 * 60 * 1000;
const UNAUTHORISED = { message: "unauthorised" };
const TRY_REFRESH = { message: "try refresh token" };
const STORE_DOWN = { message: "session store unavailable", code: "STORE_UNAVAILABLE" };
const NEST_500 = { statusCode: 500, message: "Internal server error" };
/** Nest's own body for an http-errors-shaped error (what its default handler answers without the filter). */
const nestBody = (statusCode: number, message: string) => ({ statusCode, message });
const INVALID_EMAIL = {
  message: "invalid claim",
  claimValidationErrors: [{ id: "st-ev", reason: { message: "wrong value", expectedValue: true, actualValue: false } }],
};

function whoIs(req: Request) {
  const session = req.session;
  return session ? { userId: session.userId, handle: session.handle } : { userId: null };
}

@Controller()
class AppController {
  @Post("login")
  @HttpCode(200)
  async login(@Body() body: { userId: string }, @Res({ passthrough: true }) res: Response) {
    const session = await res.createSession(body.userId);
    return { message: "User logged in!", handle: session.handle };
  }

  @Get("public")
  public() {
    return { ok: true };
  }

  @Get("api/me")
  @RequireSession()
  me(@CurrentSession() session: Session) {
    return { userId: session.userId, handle: session.handle };
  }

  @Get("api/strict")
  @RequireSession({ checkDatabase: true })
  strict(@Req() req: Request) {
    return whoIs(req);
  }

  @Get("api/optional")
  @RequireSession({ sessionRequired: false })
  optional(@Req() req: Request) {
    return whoIs(req);
  }

  @Get("api/unverified-ok")
  @RequireSession({ overrideGlobalClaimValidators: () => [] })
  unverifiedOk(@Req() req: Request) {
    return whoIs(req);
  }

  @Get("api/forbidden")
  @RequireSession()
  forbidden(): never {
    throw new ForbiddenException("admins only");
  }

  @Get("api/boom")
  boom(): never {
    throw new Error("a bug in a route");
  }
}

// Options on the class apply to every route of it; a route's own options override them.
@Controller("account")
@RequireSession({ checkDatabase: true })
class AccountController {
  @Get()
  account(@Req() req: Request) {
    return whoIs(req);
  }

  @Get("relaxed")
  @RequireSession()
  relaxed(@Req() req: Request) {
    return whoIs(req);
  }
}

type Wiring = "APP_FILTER" | "useGlobalFilters" | "no filter";

@Module({})
class AppModule {
  static wired(wiring: Wiring): DynamicModule {
    const providers: Provider[] = [{ provide: APP_GUARD, useClass: SessionGuard }];
    if (wiring === "APP_FILTER") providers.push({ provide: APP_FILTER, useClass: SessionErrorFilter });
    return { module: AppModule, controllers: [AppController, AccountController], providers };
  }
}

interface NestHarness {
  app: INestApplication;
  server: Server;
  sessions: SessionMiddleware;
  /** A plain Express 5 app on the same sessionMiddleware, guarded by verifySession(): the reference answers. */
  reference: express.Express;
}

async function startNest(options: SessionMiddlewareOptions, wiring: Wiring = "APP_FILTER"): Promise<NestHarness> {
  const sessions = sessionMiddleware({ logger: false, claims: [EmailVerified], globalClaimValidators: [EmailVerified.validators.isTrue()], ...options });
  // As the README's main.ts, with Nest's own logging off.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.wired(wiring), { logger: false });
  app.use(sessions);
  if (wiring === "useGlobalFilters") app.useGlobalFilters(new SessionErrorFilter());
  await app.init();
  expect(app.getHttpAdapter().getType()).toBe("express");

  const reference = express();
  reference.use(sessions);
  reference.get("/api/me", verifySession(), (req, res) => void res.json(whoIs(req)));
  reference.get("/api/strict", verifySession({ checkDatabase: true }), (req, res) => void res.json(whoIs(req)));
  reference.get("/api/optional", verifySession({ sessionRequired: false }), (req, res) => void res.json(whoIs(req)));
  reference.use(errorHandler());
  return { app, server: app.getHttpServer() as Server, sessions, reference };
}

async function loginThrough(server: Server, userId: string) {
  const res = await request(server).post("/login").send({ userId }).expect(200);
  expect(res.body).toEqual({ message: "User logged in!", handle: expect.any(String) });
  return { ...tokensOf(res), handle: res.body.handle as string, res };
}

/** What a client sees of a session answer. */
function answer(res: TestResponse) {
  return {
    status: res.status,
    body: res.body,
    setCookie: res.headers["set-cookie"],
    frontToken: res.headers["front-token"],
    cacheControl: res.headers["cache-control"],
  };
}

/** Asserts the Nest app answers `path` exactly as verifySession() on plain Express does, and returns the answer. */
async function sameAsVerifySession(h: NestHarness, path: string, cookie?: string): Promise<TestResponse> {
  const viaNest = request(h.server).get(path);
  const viaExpress = request(h.reference).get(path);
  if (cookie !== undefined) {
    viaNest.set("Cookie", cookie);
    viaExpress.set("Cookie", cookie);
  }
  const [nest, plain] = [await viaNest, await viaExpress];
  expect(answer(nest)).toEqual(answer(plain));
  return nest;
}

function expectTokensCleared(res: TestResponse): void {
  expectCleared(res, "sAccessToken", "/");
  expectCleared(res, "sRefreshToken", "/auth/session/refresh");
  expect(res.headers["front-token"]).toBe("remove");
}

function expectTokensKept(res: TestResponse): void {
  expect(res.headers["set-cookie"]).toBeUndefined();
  expect(res.headers["front-token"]).toBeUndefined();
}

describeEachStore("NestJS: the README recipe (guard + SessionError filter)", (stores) => {
  const clock = fakeClock();
  let h: NestHarness;
  let admin: ReturnType<typeof sessionManager>;

  beforeAll(async () => {
    // Two instances on one database: the admin's revocation reaches the app only through the store.
    const [appStore, adminStore] = stores.pair();
    h = await startNest({ store: appStore, clock: clock.now });
    admin = sessionManager({ store: adminStore, logger: false, clock: clock.now });
  });
  afterAll(async () => {
    await h.app.close();
    await h.sessions.close();
    await admin.close();
  });

  it("logs in through a Nest controller (res.createSession via @Res({ passthrough: true }))", async () => {
    const { res, access, refresh } = await loginThrough(h.server, "user-1");
    expect(access).not.toBe("");
    expect(refresh).not.toBe("");
    expect(res.headers["front-token"]).toEqual(expect.any(String));
    const me = await request(h.server).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    expect(me.body).toEqual({ userId: "user-1", handle: res.body.handle });
  });

  it("no token: 401 unauthorised and no Set-Cookie, as verifySession answers", async () => {
    const res = await sameAsVerifySession(h, "/api/me");
    expect(res.status).toBe(401);
    expect(res.body).toEqual(UNAUTHORISED);
    expect(res.text).toBe('{"message":"unauthorised"}');
    expectTokensKept(res);
  });

  it("a forged token: 401 unauthorised with the tokens cleared", async () => {
    const res = await sameAsVerifySession(h, "/api/me", accessCookie("x.y.z"));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(UNAUTHORISED);
    expectTokensCleared(res);
  });

  it("an expired access token: 401 try refresh token with the cookies kept; the middleware's refresh endpoint then works under Nest", async () => {
    const { access, refresh } = await loginThrough(h.server, "user-expiring");
    clock.advance(ACCESS_TTL_MS + 1000);
    const expired = await sameAsVerifySession(h, "/api/me", accessCookie(access));
    expect(expired.status).toBe(401);
    expect(expired.text).toBe('{"message":"try refresh token"}');
    expectTokensKept(expired);
    // sessionRequired: false still asks an expired session to refresh instead of treating it as anonymous.
    const optional = await sameAsVerifySession(h, "/api/optional", accessCookie(access));
    expect([optional.status, optional.body]).toEqual([401, TRY_REFRESH]);

    const refreshed = await request(h.server).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(200);
    expect(refreshed.body).toEqual({});
    expect(refreshed.headers["front-token"]).toEqual(expect.any(String));
    const next = tokensOf(refreshed);
    expect(next.access).not.toBe(access);
    expect(next.refresh).not.toBe(refresh);
    const me = await request(h.server).get("/api/me").set("Cookie", accessCookie(next.access)).expect(200);
    expect(me.body.userId).toBe("user-expiring");

    // A refresh without a token is the middleware's 401 too, not Nest's 404.
    const none = await request(h.server).post("/auth/session/refresh").expect(401);
    expect(none.body).toEqual(UNAUTHORISED);
  });

  it("sessionRequired: false lets anonymous requests and bad tokens through", async () => {
    const anonymous = await sameAsVerifySession(h, "/api/optional");
    expect([anonymous.status, anonymous.body]).toEqual([200, { userId: null }]);
    const forged = await sameAsVerifySession(h, "/api/optional", accessCookie("x.y.z"));
    expect([forged.status, forged.body]).toEqual([200, { userId: null }]);
    const { access } = await loginThrough(h.server, "user-optional");
    const signedIn = await request(h.server).get("/api/optional").set("Cookie", accessCookie(access)).expect(200);
    expect(signedIn.body.userId).toBe("user-optional");
  });

  it("a session revoked on another instance: checkDatabase answers 401 unauthorised at once and clears the cookies", async () => {
    const { access, handle } = await loginThrough(h.server, "user-revoked");
    await request(h.server).get("/api/strict").set("Cookie", accessCookie(access)).expect(200);
    expect(await admin.revokeSession(handle)).toBe(true);
    const res = await request(h.server).get("/api/strict").set("Cookie", accessCookie(access));
    expect([res.status, res.body]).toEqual([401, UNAUTHORISED]);
    expectTokensCleared(res);
    // And the reference app (same instance, which now knows the handle is revoked) agrees.
    await sameAsVerifySession(h, "/api/strict", accessCookie(access));
  });

  it("options on a controller class apply to its routes; a route's own options override them", async () => {
    const { access, handle } = await loginThrough(h.server, "user-account");
    await request(h.server).get("/account").set("Cookie", accessCookie(access)).expect(200);
    // Revoked in the store only: the checkDatabase class default sees it...
    await admin.revokeSession(handle);
    const strict = await request(h.server).get("/account").set("Cookie", accessCookie(access));
    expect([strict.status, strict.body]).toEqual([401, UNAUTHORISED]);
    // ...and, having read the revoked row, this instance refuses the token on the relaxed route as well.
    const relaxed = await request(h.server).get("/account/relaxed").set("Cookie", accessCookie(access));
    expect([relaxed.status, relaxed.body]).toEqual([401, UNAUTHORISED]);
  });

  it("a failing claim validator: 403 invalid claim with claimValidationErrors; overrideGlobalClaimValidators lifts it", async () => {
    const { access } = await loginThrough(h.server, "unverified-1");
    const res = await sameAsVerifySession(h, "/api/me", accessCookie(access));
    expect(res.status).toBe(403);
    expect(res.body).toEqual(INVALID_EMAIL);
    expectTokensKept(res);
    const lifted = await request(h.server).get("/api/unverified-ok").set("Cookie", accessCookie(access)).expect(200);
    expect(lifted.body.userId).toBe("unverified-1");
  });

  it("sign-out, served by the middleware, revokes the session and clears the cookies under Nest", async () => {
    const { access } = await loginThrough(h.server, "user-signout");
    const out = await request(h.server).post("/auth/signout").set("Cookie", accessCookie(access)).expect(200);
    expectTokensCleared(out);
    const after = await request(h.server).get("/api/strict").set("Cookie", accessCookie(access));
    expect([after.status, after.body]).toEqual([401, UNAUTHORISED]);
  });

  it("other errors still reach Nest's own handling", async () => {
    const { access } = await loginThrough(h.server, "user-2");
    const forbidden = await request(h.server).get("/api/forbidden").set("Cookie", accessCookie(access)).expect(403);
    expect(forbidden.body).toEqual({ statusCode: 403, message: "admins only", error: "Forbidden" });
    const boom = await request(h.server).get("/api/boom").expect(500);
    expect(boom.body).toEqual(NEST_500);
    // Unmarked routes are not guarded at all.
    await request(h.server).get("/public").expect(200, { ok: true });
    // Nest's 404 for unknown routes, including unknown paths under the middleware's base path.
    const missing = await request(h.server).get("/auth/nothing-here").expect(404);
    expect(missing.body).toMatchObject({ statusCode: 404 });
  });
});

describeEachStore("NestJS: app.useGlobalFilters(new SessionErrorFilter()) wiring", (stores) => {
  let h: NestHarness;
  beforeAll(async () => {
    h = await startNest({ store: stores.create() }, "useGlobalFilters");
  });
  afterAll(async () => {
    await h.app.close();
    await h.sessions.close();
  });

  it("answers as verifySession does", async () => {
    const none = await sameAsVerifySession(h, "/api/me");
    expect([none.status, none.body]).toEqual([401, UNAUTHORISED]);
    expectTokensKept(none);
    const forged = await sameAsVerifySession(h, "/api/me", accessCookie("x.y.z"));
    expect([forged.status, forged.body]).toEqual([401, UNAUTHORISED]);
    expectTokensCleared(forged);
    const { access } = await loginThrough(h.server, "unverified-2");
    const claim = await sameAsVerifySession(h, "/api/me", accessCookie(access));
    expect([claim.status, claim.body]).toEqual([403, INVALID_EMAIL]);
    const forbidden = await request(h.server).get("/api/forbidden").set("Cookie", accessCookie((await loginThrough(h.server, "user-3")).access));
    expect([forbidden.status, forbidden.body]).toEqual([403, { statusCode: 403, message: "admins only", error: "Forbidden" }]);
  });
});

// Without the recipe's filter, Nest's own handler answers: since 0.3 a SessionError has the
// http-errors shape (statusCode, expose), so Nest keeps latchkey's status (401s the SDK
// refreshes on, 403, 503) — with Nest's body, and without clearing dead cookies, which is
// what the filter still adds (issue 20 item 5).
describeEachStore("NestJS without the SessionError filter", (stores) => {
  const clock = fakeClock();
  let h: NestHarness;
  beforeAll(async () => {
    h = await startNest({ store: stores.create(), clock: clock.now }, "no filter");
  });
  afterAll(async () => {
    await h.app.close();
    await h.sessions.close();
  });

  it("every SessionError from the same guard keeps its status under Nest's own handler, so the SDK still refreshes", async () => {
    const none = await request(h.server).get("/api/me");
    expect([none.status, none.body]).toEqual([401, nestBody(401, "unauthorised")]);
    const forged = await request(h.server).get("/api/me").set("Cookie", accessCookie("x.y.z"));
    expect([forged.status, forged.body]).toEqual([401, nestBody(401, "unauthorised")]);
    // Not cleared either: a dead token would be sent forever.
    expect(setCookies(forged).size).toBe(0);

    const { access } = await loginThrough(h.server, "user-1");
    await request(h.server).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    clock.advance(ACCESS_TTL_MS + 1000);
    const expired = await request(h.server).get("/api/me").set("Cookie", accessCookie(access));
    expect([expired.status, expired.body]).toEqual([401, nestBody(401, "try refresh token")]);
    // The reference verifySession() answer for the very same request.
    const reference = await request(h.reference).get("/api/me").set("Cookie", accessCookie(access));
    expect([reference.status, reference.body]).toEqual([401, TRY_REFRESH]);

    const { access: unverified } = await loginThrough(h.server, "unverified-3");
    const claim = await request(h.server).get("/api/me").set("Cookie", accessCookie(unverified));
    expect([claim.status, claim.body]).toEqual([403, nestBody(403, "invalid claim")]);
  });
});

// The store fails for real: MySQL through a TCP proxy that then refuses every connection.
describe("NestJS with the session store down", () => {
  const stores = new StoreFactory("mysql");
  const url = new URL(DATABASE_URL);
  let proxy: TcpProxy;

  beforeEach(async () => {
    proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
  });
  afterEach(async () => {
    await proxy.close();
  });
  afterAll(() => stores.cleanup());

  function storeThroughProxy() {
    return mysqlStore(
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
  }

  it("answers 503 STORE_UNAVAILABLE from the guard (checkDatabase) and the controller (createSession), keeps verifying, and recovers", async () => {
    const h = await startNest({ store: storeThroughProxy() });
    try {
      const { access, refresh } = await loginThrough(h.server, "user-1");
      await proxy.refuse();

      const strict = await sameAsVerifySession(h, "/api/strict", accessCookie(access));
      expect(strict.status).toBe(503);
      expect(strict.text).toBe('{"message":"session store unavailable","code":"STORE_UNAVAILABLE"}');
      expectTokensKept(strict);

      // A SessionError thrown by res.createSession in a controller goes through the same filter.
      const login = await request(h.server).post("/login").send({ userId: "user-2" });
      expect([login.status, login.body]).toEqual([503, STORE_DOWN]);
      expectTokensKept(login);

      // Verification needs no I/O: routes without checkDatabase keep working.
      await request(h.server).get("/api/me").set("Cookie", accessCookie(access)).expect(200);

      const refreshed = await request(h.server).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh));
      expect([refreshed.status, refreshed.body]).toEqual([503, STORE_DOWN]);
      expectTokensKept(refreshed);

      await proxy.pass();
      let status = 0;
      for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
        status = (await request(h.server).get("/api/strict").set("Cookie", accessCookie(access))).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(status).toBe(200);
    } finally {
      await h.app.close();
      await h.sessions.close();
    }
  });

  it("without the filter the same outage is still a 503, in Nest's body", async () => {
    const h = await startNest({ store: storeThroughProxy() }, "no filter");
    try {
      const { access } = await loginThrough(h.server, "user-1");
      await proxy.refuse();
      const strict = await request(h.server).get("/api/strict").set("Cookie", accessCookie(access));
      // A 5xx's message is not exposed (expose: false): Nest shows its status text instead.
      expect([strict.status, strict.body]).toEqual([503, nestBody(503, "Service Unavailable")]);
      const login = await request(h.server).post("/login").send({ userId: "user-2" });
      expect([login.status, login.body]).toEqual([503, nestBody(503, "Service Unavailable")]);
    } finally {
      await h.app.close();
      await h.sessions.close();
    }
  });
});
