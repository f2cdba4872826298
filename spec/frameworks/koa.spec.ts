import type { Server } from "node:http";
import Koa from "koa";
import request from "supertest";
import { memoryStore, PrimitiveArrayClaim, SessionError, type SessionMiddlewareOptions } from "../../lib";
import { koaSessions, verifySession, type KoaSessions } from "../../lib/frameworks/koa";
import { jsonBody, route } from "./drivers/koa";
import { setCookies } from "../helpers";

// What is Koa's own in latchkey/koa, beside the framework conformance suite (which runs the koa
// driver through every wire behaviour): the middleware chain always settles (0.2 through
// koa-connect left every request latchkey answered itself pending), errors downstream,
// app.proxy, and cookies written beside Koa's own.

interface Started {
  app: Koa;
  sessions: KoaSessions;
  http(): ReturnType<typeof request>;
}

const running: { server: Server; sessions: KoaSessions }[] = [];
afterEach(async () => {
  for (const { server, sessions } of running.splice(0)) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await sessions.close();
  }
});

const ROLES = new PrimitiveArrayClaim<string>({ key: "st-role", fetchValue: () => ["user"] });

/** An app whose first middleware is `outer` (when given), then latchkey, then the routes. */
async function start(options: SessionMiddlewareOptions = {}, routes: (app: Koa) => void = () => {}, outer?: Koa.Middleware): Promise<Started> {
  const sessions = koaSessions({ logger: false, store: memoryStore(), claims: [ROLES], ...options });
  const app = new Koa();
  if (outer) app.use(outer);
  app.use(jsonBody);
  app.use(sessions);
  app.use(
    route("POST", "/login", async (ctx) => {
      ctx.body = { handle: (await ctx.createSession((ctx.request as { body?: { userId: string } }).body!.userId)).handle };
    }),
  );
  app.use(
    route("GET", "/api/me", verifySession(), (ctx) => {
      ctx.body = { userId: ctx.state.session!.userId };
    }),
  );
  app.use(
    route("GET", "/api/admin", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, ROLES.validators.includes("admin")] }), (ctx) => {
      ctx.body = {};
    }),
  );
  routes(app);
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  running.push({ server, sessions });
  await sessions.ready();
  return { app, sessions, http: () => request(server) };
}

function cookieHeader(res: request.Response): string {
  return [...setCookies(res)].map(([name, cookie]) => `${name}=${cookie.value}`).join("; ");
}

describe("latchkey/koa", () => {
  it("every middleware chain settles on the 50 requests latchkey answers itself (refresh, sign-out, JWKS, 401s, 403s)", async () => {
    let settled = 0;
    let entered = 0;
    const counting: Koa.Middleware = async (_ctx, next) => {
      entered++;
      await next();
      settled++;
    };
    const app = await start({}, () => {}, counting);
    const logins = await Promise.all(Array.from({ length: 10 }, (_, i) => app.http().post("/login").send({ userId: `user-${i}` })));
    entered = settled = 0;
    const answers = await Promise.all(
      logins.flatMap((login) => [
        app.http().post("/auth/session/refresh").set("cookie", cookieHeader(login)).expect(200),
        app.http().post("/auth/session/refresh").expect(401),
        app.http().get("/api/me").expect(401),
        app.http().get("/api/admin").set("cookie", cookieHeader(login)).expect(403),
        app.http().get("/auth/jwt/jwks.json").expect(200),
      ]),
    );
    expect(answers).toHaveLength(50);
    const signOuts = await Promise.all(logins.map((login) => app.http().post("/auth/signout").set("cookie", cookieHeader(login)).expect(200)));
    expect(signOuts).toHaveLength(10);
    expect([entered, settled]).toEqual([60, 60]);
  });

  it("a SessionError thrown downstream is latchkey's answer; anything else goes on to Koa's error handling", async () => {
    const errors: unknown[] = [];
    const app = await start({}, (koa) => {
      koa.use(
        route("GET", "/boom", () => {
          throw new SessionError("STORE_UNAVAILABLE");
        }),
      );
      koa.use(
        route("GET", "/bug", () => {
          throw new Error("a bug");
        }),
      );
      koa.on("error", (error) => errors.push(error));
    });
    const boom = await app.http().get("/boom");
    expect([boom.status, boom.body]).toEqual([503, { message: "session store unavailable", code: "STORE_UNAVAILABLE" }]);
    const bug = await app.http().get("/bug");
    expect(bug.status).toBe(500);
    expect(errors).toEqual([expect.objectContaining({ message: "a bug" })]);
  });

  it("honours app.proxy: the client IP from X-Forwarded-For and Secure, prefixed cookies for X-Forwarded-Proto: https", async () => {
    const trusting = await start();
    trusting.app.proxy = true;
    const login = await trusting.http().post("/login").set("x-forwarded-for", "203.0.113.7").set("x-forwarded-proto", "https").send({ userId: "user-1" });
    expect([...setCookies(login).keys()]).toEqual(["__Host-sAccessToken", "__Secure-sRefreshToken"]);
    expect(setCookies(login).get("__Host-sAccessToken")!.attributes).toHaveProperty("secure");
    expect((await trusting.sessions.listSessions("user-1")).map((session) => session.ip)).toEqual(["203.0.113.7"]);

    const direct = await start();
    const plain = await direct.http().post("/login").set("x-forwarded-for", "203.0.113.7").set("x-forwarded-proto", "https").send({ userId: "user-2" });
    expect([...setCookies(plain).keys()]).toEqual(["sAccessToken", "sRefreshToken"]);
    expect((await direct.sessions.listSessions("user-2")).map((session) => session.ip)).toEqual(["127.0.0.1"]);
  });

  it("writes its Set-Cookie lines as the core serializes them, beside cookies the app sets with ctx.cookies", async () => {
    const app = await start({}, () => {}, async (ctx, next) => {
      ctx.cookies.set("theme", "dark", { httpOnly: false });
      await next();
    });
    const login = await app.http().post("/login").send({ userId: "user-1" });
    const lines = login.headers["set-cookie"] as unknown as string[];
    expect(lines[0]).toBe("theme=dark; path=/");
    expect(lines[1]).toMatch(/^sAccessToken=[\w.-]+; Path=\/; Expires=[^;]+ GMT; HttpOnly; SameSite=Lax$/);
    expect(lines[2]).toMatch(/^sRefreshToken=[\w.-]+; Path=\/auth\/session\/refresh; Expires=[^;]+ GMT; HttpOnly; SameSite=Lax$/);
  });

  it("a token re-signed after ctx.body is set still reaches the response", async () => {
    const app = await start({}, (koa) => {
      koa.use(
        route("POST", "/api/payload", verifySession(), async (ctx) => {
          ctx.body = {};
          await ctx.state.session!.mergeIntoAccessTokenPayload({ theme: "dark" });
        }),
      );
    });
    const login = await app.http().post("/login").send({ userId: "user-1" });
    const res = await app.http().post("/api/payload").set("cookie", cookieHeader(login)).send({});
    expect(res.status).toBe(200);
    expect(setCookies(res).has("sAccessToken")).toBe(true);
    expect(JSON.parse(Buffer.from(String(res.headers["front-token"]), "base64").toString()).up).toMatchObject({ theme: "dark" });
  });

  it("catches the classic misuses, naming the fix", async () => {
    const errors: Error[] = [];
    const misused = await start({}, (koa) => {
      koa.use(route("GET", "/factory", koaSessions as unknown as Koa.Middleware));
      koa.on("error", (error: Error) => errors.push(error));
    });
    expect((await misused.http().get("/factory")).status).toBe(500);
    expect(errors[0]?.message).toContain("app.use(koaSessions())");

    const lone = new Koa();
    const loneErrors: Error[] = [];
    lone.on("error", (error: Error) => loneErrors.push(error));
    lone.use(verifySession());
    const server = lone.listen(0, "127.0.0.1");
    try {
      expect((await request(server).get("/")).status).toBe(500);
      expect(loneErrors[0]?.message).toContain("did not pass through koaSessions()");
    } finally {
      server.close();
    }
  });
});
