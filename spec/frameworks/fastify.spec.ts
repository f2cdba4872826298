import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import request from "supertest";
import { memoryStore, SessionError, type SessionMiddlewareOptions } from "../../lib";
import { fastifySessions, verifySession, type FastifySessions } from "../../lib/frameworks/fastify";
import { setCookies } from "../helpers";

// What is Fastify's own in latchkey/fastify, beside the framework conformance suite (which runs
// the fastify driver through every wire behaviour): body parsing on the endpoints, error
// handlers of the app's own, hooks, trustProxy, encapsulation, and the plugin's lifecycle.

interface Started {
  app: FastifyInstance;
  sessions: FastifySessions;
  http(): ReturnType<typeof request>;
}

const running: Started[] = [];
afterEach(async () => {
  for (const { app, sessions } of running.splice(0)) {
    await app.close();
    await sessions.close();
  }
});

async function start(
  options: SessionMiddlewareOptions = {},
  routes: (app: FastifyInstance) => void | Promise<void> = () => {},
  server: FastifyServerOptions = {},
): Promise<Started> {
  const sessions = fastifySessions({ logger: false, store: memoryStore(), ...options });
  const app = Fastify(server);
  await app.register(sessions);
  app.post<{ Body: { userId: string } }>("/login", async (req, reply) => ({ handle: (await reply.createSession(req.body.userId)).handle }));
  app.get("/api/me", { preHandler: verifySession() }, async (req) => ({ userId: req.session!.userId }));
  await routes(app);
  await app.listen({ port: 0, host: "127.0.0.1" });
  await sessions.ready();
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const started = { app, sessions, http: () => request(`http://127.0.0.1:${port}`) };
  running.push(started);
  return started;
}

function cookieHeader(res: request.Response): string {
  return [...setCookies(res)].map(([name, cookie]) => `${name}=${cookie.value}`).join("; ");
}

describe("latchkey/fastify", () => {
  it("the endpoints take content-type: application/json with an empty body (as the SuperTokens SDK sends) and never parse it", async () => {
    const app = await start();
    const login = await app.http().post("/login").send({ userId: "user-1" });
    const refreshed = await app.http().post("/auth/session/refresh").set("content-type", "application/json").set("cookie", cookieHeader(login)).send("");
    expect([refreshed.status, refreshed.body]).toEqual([200, {}]);
    const anonymous = await app.http().post("/auth/session/refresh").set("content-type", "application/json").send("");
    expect([anonymous.status, anonymous.body]).toEqual([401, { message: "unauthorised" }]);
    const malformed = await app.http().post("/auth/session/refresh").set("content-type", "application/json").send("{");
    expect([malformed.status, malformed.body]).toEqual([401, { message: "unauthorised" }]);
    const signOut = await app.http().post("/auth/signout").set("content-type", "application/json").set("cookie", cookieHeader(refreshed)).send("");
    expect([signOut.status, signOut.body]).toEqual([200, { status: "OK" }]);
    // The app's own routes keep Fastify's JSON parser.
    const badLogin = await app.http().post("/login").set("content-type", "application/json").send("");
    expect(badLogin.status).toBe(400);
    expect(badLogin.body.code).toBe("FST_ERR_CTP_EMPTY_JSON_BODY");
  });

  it("a SessionError in a route is latchkey's answer even beside the app's own setErrorHandler, which gets everything else (and no override warning)", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(String((warning as Error & { code?: string }).code));
    process.on("warning", onWarning);
    const seen: unknown[] = [];
    try {
      const app = await start({}, (fastify) => {
        fastify.setErrorHandler((error, _req, reply) => {
          seen.push(error);
          return reply.code(418).send({ mine: true });
        });
        fastify.get("/boom", async () => {
          throw new SessionError("STORE_UNAVAILABLE");
        });
        fastify.get("/bug", async () => {
          throw new Error("a bug");
        });
      });
      const boom = await app.http().get("/boom");
      expect([boom.status, boom.body]).toEqual([503, { message: "session store unavailable", code: "STORE_UNAVAILABLE" }]);
      const bug = await app.http().get("/bug");
      expect([bug.status, bug.body]).toEqual([418, { mine: true }]);
      expect(seen).toEqual([expect.objectContaining({ message: "a bug" })]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain("FSTWRN004");
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("routes in encapsulated plugins (a prefix, an error handler of their own) and a route's own errorHandler are covered too", async () => {
    const app = await start({}, async (fastify) => {
      await fastify.register(
        async (child) => {
          child.setErrorHandler((_error, _req, reply) => reply.code(500).send({ child: true }));
          child.get("/boom", { preHandler: verifySession() }, async () => {
            throw new SessionError("STORE_UNAVAILABLE");
          });
          child.get("/bug", async () => {
            throw new Error("a bug");
          });
        },
        { prefix: "/v1" },
      );
      fastify.get("/own", { errorHandler: (_error, _req, reply) => reply.code(409).send({ own: true }) }, async () => {
        throw new Error("a bug");
      });
      fastify.get("/own-session", { errorHandler: (_error, _req, reply) => reply.code(409).send({ own: true }) }, async () => {
        throw new SessionError("UNAUTHORISED");
      });
    });
    const login = await app.http().post("/login").send({ userId: "user-1" });
    const boom = await app.http().get("/v1/boom").set("cookie", cookieHeader(login));
    expect([boom.status, boom.body]).toEqual([503, { message: "session store unavailable", code: "STORE_UNAVAILABLE" }]);
    expect((await app.http().get("/v1/boom")).status).toBe(401); // the guard works under a prefix
    expect((await app.http().get("/v1/bug")).body).toEqual({ child: true });
    expect((await app.http().get("/own")).body).toEqual({ own: true });
    const ownSession = await app.http().get("/own-session");
    expect([ownSession.status, ownSession.body]).toEqual([401, { message: "unauthorised", code: "UNAUTHORISED" }]);
  });

  it("answers through Fastify's reply: the app's onSend hooks run on the endpoints and on the guard's refusals", async () => {
    const app = await start({}, (fastify) => {
      fastify.addHook("onSend", async (_req, reply, payload) => {
        reply.header("x-seen-by-onsend", "yes");
        return payload;
      });
    });
    for (const res of [await app.http().get("/api/me"), await app.http().post("/auth/session/refresh"), await app.http().get("/auth/jwt/jwks.json")]) {
      expect(res.headers["x-seen-by-onsend"]).toBe("yes");
    }
  });

  it("honours trustProxy: the client IP from X-Forwarded-For and Secure, prefixed cookies for X-Forwarded-Proto: https", async () => {
    const trusting = await start({}, () => {}, { trustProxy: true });
    const login = await trusting.http().post("/login").set("x-forwarded-for", "203.0.113.7").set("x-forwarded-proto", "https").send({ userId: "user-1" });
    expect([...setCookies(login).keys()]).toEqual(["__Host-sAccessToken", "__Secure-sRefreshToken"]);
    expect(setCookies(login).get("__Host-sAccessToken")!.attributes).toHaveProperty("secure");
    expect((await trusting.sessions.listSessions("user-1")).map((session) => session.ip)).toEqual(["203.0.113.7"]);

    const direct = await start();
    const plain = await direct.http().post("/login").set("x-forwarded-for", "203.0.113.7").set("x-forwarded-proto", "https").send({ userId: "user-2" });
    expect([...setCookies(plain).keys()]).toEqual(["sAccessToken", "sRefreshToken"]);
    expect((await direct.sessions.listSessions("user-2")).map((session) => session.ip)).toEqual(["127.0.0.1"]);
  });

  it("request.session is null until verified (sessionRequired: false lets an anonymous request through with null)", async () => {
    const app = await start({}, (fastify) => {
      fastify.get("/api/optional", { preHandler: verifySession({ sessionRequired: false }) }, async (req) => ({ session: req.session }));
      fastify.get("/open", async (req) => ({ session: req.session }));
    });
    expect((await app.http().get("/api/optional")).body).toEqual({ session: null });
    expect((await app.http().get("/open")).body).toEqual({ session: null });
  });

  it("a token re-signed in the route reaches the reply", async () => {
    const app = await start({}, (fastify) => {
      fastify.post("/api/payload", { preHandler: verifySession() }, async (req, reply) => {
        await req.session!.mergeIntoAccessTokenPayload({ theme: "dark" });
        return reply.send({});
      });
    });
    const login = await app.http().post("/login").send({ userId: "user-1" });
    const res = await app.http().post("/api/payload").set("cookie", cookieHeader(login)).send({});
    expect(res.status).toBe(200);
    expect(setCookies(res).has("sAccessToken")).toBe(true);
    expect(JSON.parse(Buffer.from(String(res.headers["front-token"]), "base64").toString()).up).toMatchObject({ theme: "dark" });
  });

  it("catches the classic misuses and a clash over request.session, naming the fix", async () => {
    const app = Fastify();
    await expect(app.register(fastifySessions as never)).rejects.toThrow("app.register(fastifySessions())");
    await app.close();

    const clashing = Fastify();
    clashing.decorateRequest("session", null);
    const sessions = fastifySessions({ logger: false, store: memoryStore() });
    await expect(clashing.register(sessions)).rejects.toThrow('sessionProperty: "latchkey"');
    await clashing.close();
    await sessions.close();

    const lone = Fastify();
    lone.get("/api/me", { preHandler: verifySession() }, async () => ({}));
    await lone.listen({ port: 0, host: "127.0.0.1" });
    const res = await request(lone.server).get("/api/me");
    expect(res.status).toBe(500);
    expect(res.body.message).toContain("fastifySessions() is not registered");
    await lone.close();
  });

  it("app.close() closes the sessions too, and sessions.close() after it is harmless", async () => {
    const store = memoryStore();
    const close = jest.spyOn(store, "close");
    const sessions = fastifySessions({ logger: false, store });
    const app = Fastify();
    await app.register(sessions);
    await app.ready();
    await app.close();
    expect(close).toHaveBeenCalledTimes(1);
    await sessions.close();
    expect(close).toHaveBeenCalledTimes(1);
  });
});
