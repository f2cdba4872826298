import Hapi from "@hapi/hapi";
import request from "supertest";
import { memoryStore, SessionError, type SessionMiddlewareOptions } from "../../lib";
import { hapiSessions } from "../../lib/frameworks/hapi";
import { setCookies } from "../helpers";

// What is Hapi's own in latchkey/hapi, beside the framework conformance suite (which runs the
// hapi driver through every wire behaviour): the plugin's idioms, Hapi's payload parsing and
// auth defaults, Boom errors, and the strategy options.

async function start(options: SessionMiddlewareOptions = {}, routes: (server: Hapi.Server) => void = () => {}) {
  const sessions = hapiSessions({ logger: false, store: memoryStore(), ...options });
  const server = Hapi.server({ port: 0, host: "127.0.0.1" });
  await server.register(sessions.plugin);
  server.auth.strategy("session", "latchkey");
  server.route({ method: "POST", path: "/login", handler: async (req, h) => ({ handle: (await h.createSession((req.payload as { userId: string }).userId)).handle }) });
  routes(server);
  await server.start();
  await sessions.ready();
  servers.push({ server, sessions });
  return { server, sessions, http: () => request(`http://127.0.0.1:${server.info.port}`) };
}

const servers: { server: Hapi.Server; sessions: { close(): Promise<void> } }[] = [];
afterEach(async () => {
  for (const { server, sessions } of servers.splice(0)) {
    await server.stop();
    await sessions.close();
  }
});

function cookieHeader(res: request.Response): string {
  return [...setCookies(res)].map(([name, cookie]) => `${name}=${cookie.value}`).join("; ");
}

describe("latchkey/hapi", () => {
  it("login sets each cookie on its own Set-Cookie line, on the response the route returned", async () => {
    const app = await start();
    const res = await app.http().post("/login").send({ userId: "user-1" });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ handle: expect.any(String) });
    const lines = res.headers["set-cookie"] as unknown as string[];
    expect(lines.map((line) => line.split("=")[0])).toEqual(["sAccessToken", "sRefreshToken"]);
    expect(res.headers["front-token"]).toEqual(expect.any(String));
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("the refresh endpoint never parses the payload: content-type: application/json with an empty or malformed body is not a 400", async () => {
    const app = await start();
    const login = await app.http().post("/login").send({ userId: "user-1" });
    const refreshed = await app.http().post("/auth/session/refresh").set("content-type", "application/json").set("cookie", cookieHeader(login)).send("");
    expect([refreshed.status, refreshed.body]).toEqual([200, {}]);
    const anonymous = await app.http().post("/auth/session/refresh").set("content-type", "application/json").send("");
    expect([anonymous.status, anonymous.body]).toEqual([401, { message: "unauthorised" }]);
    const malformed = await app.http().post("/auth/session/refresh").set("content-type", "application/json").send("{");
    expect([malformed.status, malformed.body]).toEqual([401, { message: "unauthorised" }]);
  });

  it("a default strategy (server.auth.default) never guards the endpoints", async () => {
    const app = await start({}, (server) => server.auth.default("session"));
    const jwks = await app.http().get("/auth/jwt/jwks.json");
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys).toEqual(expect.any(Array));
  });

  it("a refusal is latchkey's answer, not Hapi's 401 payload, and carries no WWW-Authenticate", async () => {
    const app = await start({}, (server) => server.route({ method: "GET", path: "/api/me", options: { auth: "session" }, handler: () => ({}) }));
    const res = await app.http().get("/api/me");
    expect([res.status, res.body]).toEqual([401, { message: "unauthorised" }]);
    expect(res.headers["www-authenticate"]).toBeUndefined();
    const garbage = await app.http().get("/api/me").set("cookie", "sAccessToken=a.b.c; sRefreshToken=x");
    expect([garbage.status, garbage.body]).toEqual([401, { message: "unauthorised" }]);
  });

  it("a strategy's refusal carries latchkey's headers: a revoked session (checkDatabase) gets its cookies cleared and front-token: remove", async () => {
    const app = await start({}, (server) => {
      server.auth.strategy("strict", "latchkey", { checkDatabase: true });
      server.route({ method: "GET", path: "/api/strict", options: { auth: "strict" }, handler: () => ({}) });
    });
    const login = await app.http().post("/login").send({ userId: "user-1" });
    await app.sessions.revokeSession(login.body.handle);
    const res = await app.http().get("/api/strict").set("cookie", cookieHeader(login));
    expect([res.status, res.body]).toEqual([401, { message: "unauthorised" }]);
    expect([...setCookies(res)].map(([name, cookie]) => [name, cookie.value])).toEqual([["sAccessToken", ""], ["sRefreshToken", ""]]);
    expect(res.headers["front-token"]).toBe("remove");
  });

  it("a SessionError thrown by a route becomes latchkey's status and body, clearing the tokens when they are done", async () => {
    const app = await start({}, (server) =>
      server.route({
        method: "GET",
        path: "/api/gone",
        options: { auth: "session" },
        handler: () => {
          throw new SessionError("UNAUTHORISED", "revoked elsewhere");
        },
      }),
    );
    const login = await app.http().post("/login").send({ userId: "user-1" });
    const res = await app.http().get("/api/gone").set("cookie", cookieHeader(login));
    expect([res.status, res.body]).toEqual([401, { message: "unauthorised", code: "UNAUTHORISED" }]);
    expect([...setCookies(res).values()].map((cookie) => cookie.value)).toEqual(["", ""]);
    expect(res.headers["front-token"]).toBe("remove");
  });

  it("cookies set before a route fails go on Hapi's error response too (a Boom's output.headers)", async () => {
    const app = await start({}, (server) =>
      server.route({
        method: "POST",
        path: "/login-then-fail",
        handler: async (_req, h) => {
          await h.createSession("user-1");
          throw new Error("the app's own failure");
        },
      }),
    );
    const res = await app.http().post("/login-then-fail");
    expect(res.status).toBe(500);
    expect([...setCookies(res).keys()]).toEqual(["sAccessToken", "sRefreshToken"]);
  });

  it("request.auth.credentials.session is the Session; a strategy with sessionRequired: false lets an anonymous request through", async () => {
    const app = await start({}, (server) => {
      server.auth.strategy("optional", "latchkey", { sessionRequired: false });
      server.route({ method: "GET", path: "/api/who", options: { auth: "optional" }, handler: (req) => ({ userId: req.auth.credentials.session?.userId ?? null }) });
    });
    expect((await app.http().get("/api/who")).body).toEqual({ userId: null });
    const login = await app.http().post("/login").send({ userId: "user-7" });
    expect((await app.http().get("/api/who").set("cookie", cookieHeader(login))).body).toEqual({ userId: "user-7" });
  });

  it("a strategy's options are checked when it is declared", async () => {
    const sessions = hapiSessions({ logger: false, store: memoryStore() });
    const server = Hapi.server();
    await server.register(sessions.plugin);
    expect(() => server.auth.strategy("bad", "latchkey", { checkDatabse: true } as never)).toThrow(/unknown "latchkey" auth strategy option checkDatabse/);
    await sessions.close();
  });
});
