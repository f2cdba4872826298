import Fastify from "fastify";
import { SessionError, type CreateSessionOptions, type SessionMiddlewareOptions } from "../../../lib";
import { fastifySessions, verifySession } from "../../../lib/frameworks/fastify";
import type { FrameworkApp, FrameworkDriver } from "../driver";
import { ROLES_CLAIM } from "../roles";

type LoginBody = { userId: string } & Pick<CreateSessionOptions, "rememberMe" | "sessionTtl" | "accessTokenPayload" | "reauthenticate">;

/**
 * The Fastify app of the framework conformance suite, written as docs/frameworks/fastify.md
 * tells users: `fastifySessions()` registered (and awaited) before the routes,
 * `reply.createSession` in the login, `verifySession()` as each guarded route's `preHandler`.
 * No error handler of the app's own: the plugin answers a route's `SessionError` itself.
 */
export const fastifyDriver: FrameworkDriver = {
  name: "fastify",
  apiBasePath: "/auth",
  async start(options: SessionMiddlewareOptions): Promise<FrameworkApp> {
    const sessions = fastifySessions(options);
    const app = Fastify();
    await app.register(sessions);

    app.post<{ Body: LoginBody }>("/login", async (request, reply) => {
      const { userId, rememberMe, sessionTtl, accessTokenPayload, reauthenticate } = request.body;
      const session = await reply.createSession(userId, { rememberMe, sessionTtl, accessTokenPayload, reauthenticate });
      return { handle: session.handle };
    });
    app.get("/api/me", { preHandler: verifySession() }, async (request) => ({ userId: request.session!.userId, handle: request.session!.handle }));
    app.get("/api/optional", { preHandler: verifySession({ sessionRequired: false }) }, async (request) => ({ userId: request.session?.userId ?? null }));
    app.get("/api/strict", { preHandler: verifySession({ checkDatabase: true }) }, async (request) => ({ userId: request.session!.userId }));
    app.post("/api/me", { preHandler: verifySession() }, async (request) => ({ userId: request.session!.userId }));
    app.get(
      "/api/admin",
      { preHandler: verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, ROLES_CLAIM.validators.includes("admin")] }) },
      async (request) => ({ userId: request.session!.userId }),
    );
    app.post<{ Body: Record<string, unknown> }>("/api/payload", { preHandler: verifySession() }, async (request) => {
      await request.session!.mergeIntoAccessTokenPayload(request.body);
      return {};
    });
    app.get("/api/boom", { preHandler: verifySession() }, async () => {
      throw new SessionError("STORE_UNAVAILABLE");
    });

    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    return {
      url: `http://127.0.0.1:${port}`,
      sessions,
      async close() {
        await app.close(); // closes the sessions too (the plugin's onClose hook)
        await sessions.close();
      },
    };
  },
};
