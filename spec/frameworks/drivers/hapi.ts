import Hapi from "@hapi/hapi";
import { SessionError, type CreateSessionOptions, type SessionMiddlewareOptions, type VerifySessionOptions } from "../../../lib";
import { hapiSessions } from "../../../lib/frameworks/hapi";
import type { FrameworkApp, FrameworkDriver } from "../driver";
import { ROLES_CLAIM } from "../roles";

type LoginBody = CreateSessionOptions & { userId: string };

/**
 * The Hapi app of the framework conformance suite, written as docs/frameworks/hapi.md tells
 * users: the plugin registered, one strategy per set of `verifySession` options, `auth:
 * "session"` on the guarded routes and `h.createSession` in the login.
 */
export const hapiDriver: FrameworkDriver = {
  name: "hapi",
  apiBasePath: "/auth",
  async start(options: SessionMiddlewareOptions): Promise<FrameworkApp> {
    const sessions = hapiSessions(options);
    const server = Hapi.server({ port: 0, host: "127.0.0.1" });
    await server.register(sessions.plugin);
    server.auth.strategy("session", "latchkey");
    server.auth.strategy("optional", "latchkey", { sessionRequired: false });
    server.auth.strategy("strict", "latchkey", { checkDatabase: true });
    const admins: VerifySessionOptions = { overrideGlobalClaimValidators: (globals) => [...globals, ROLES_CLAIM.validators.includes("admin")] };
    server.auth.strategy("admin", "latchkey", admins);

    server.route({
      method: "POST",
      path: "/login",
      handler: async (request, h) => {
        const { userId, rememberMe, sessionTtl, accessTokenPayload, reauthenticate } = request.payload as LoginBody;
        const session = await h.createSession(userId, { rememberMe, sessionTtl, accessTokenPayload, reauthenticate });
        return { handle: session.handle };
      },
    });
    server.route({
      method: "GET",
      path: "/api/me",
      options: { auth: "session" },
      handler: (request) => ({ userId: request.auth.credentials.session!.userId, handle: request.auth.credentials.session!.handle }),
    });
    server.route({
      method: "GET",
      path: "/api/optional",
      options: { auth: "optional" },
      handler: (request) => ({ userId: request.auth.credentials.session?.userId ?? null }),
    });
    server.route({ method: "GET", path: "/api/strict", options: { auth: "strict" }, handler: (request) => ({ userId: request.auth.credentials.session!.userId }) });
    server.route({ method: "POST", path: "/api/me", options: { auth: "session" }, handler: (request) => ({ userId: request.auth.credentials.session!.userId }) });
    server.route({ method: "GET", path: "/api/admin", options: { auth: "admin" }, handler: (request) => ({ userId: request.auth.credentials.session!.userId }) });
    server.route({
      method: "POST",
      path: "/api/payload",
      options: { auth: "session" },
      handler: async (request) => {
        await request.auth.credentials.session!.mergeIntoAccessTokenPayload(request.payload as Record<string, unknown>);
        return {};
      },
    });
    server.route({
      method: "GET",
      path: "/api/boom",
      options: { auth: "session" },
      handler: () => {
        throw new SessionError("STORE_UNAVAILABLE");
      },
    });

    await server.start();
    return {
      url: `http://127.0.0.1:${server.info.port}`,
      sessions,
      async close() {
        await server.stop();
        await sessions.close();
      },
    };
  },
};
