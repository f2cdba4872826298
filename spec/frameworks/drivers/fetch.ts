import { serve } from "@hono/node-server";
import { getConnInfo } from "@hono/node-server/conninfo";
import { Hono, type Context } from "hono";
import { SessionError, type SessionMiddlewareOptions, type VerifySessionOptions } from "../../../lib";
import { fetchSessions, type FetchSessions } from "../../../lib/frameworks/fetch";
import type { FrameworkApp, FrameworkDriver } from "../driver";
import { ROLES_CLAIM } from "../roles";
import { runningApp } from "./running";

/**
 * The fetch-style app of the framework conformance suite: Hono on its Node server, its routes
 * written against `fetchSessions` (a `Request` in, a `Response` out) as docs/frameworks/fetch.md
 * shows — `handle` first, `getSession` with the response's `Headers`, `errorResponse` in
 * `onError` — so it also proves latchkey/fetch under Hono.
 */
export const fetchDriver: FrameworkDriver = {
  name: "fetch",
  apiBasePath: "/auth",
  async start(options: SessionMiddlewareOptions): Promise<FrameworkApp> {
    const sessions = fetchSessions(options);
    const app = honoApp(sessions);
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const started = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(started));
    });
    return runningApp(server, sessions);
  },
};

function honoApp(sessions: FetchSessions): Hono {
  const app = new Hono();
  const ip = (c: Context) => getConnInfo(c).remote.address;

  // latchkey's endpoints (refresh, sign-out, JWKS) first; anything else goes on to the routes.
  app.use(async (c, next) => {
    const answered = await sessions.handle(c.req.raw, { ip: ip(c) });
    if (answered) return answered;
    await next();
  });
  // A refused getSession, or a SessionError a route throws: latchkey's status and body.
  app.onError((error, c) => sessions.errorResponse(error, c.req.raw, { ip: ip(c) }) ?? c.text("Internal Server Error", 500));

  // A guarded route: the session, and the Headers any re-signed token is written to.
  async function guard(c: Context, options?: VerifySessionOptions) {
    const headers = new Headers();
    const session = await sessions.getSession(c.req.raw, { ...options, headers, ip: ip(c) });
    return { session, headers };
  }

  app.post("/login", async (c) => {
    const { userId, rememberMe, sessionTtl, accessTokenPayload, reauthenticate } = await c.req.json();
    const { session, headers } = await sessions.createSession(c.req.raw, userId, { rememberMe, sessionTtl, accessTokenPayload, reauthenticate, ip: ip(c) });
    return Response.json({ handle: session.handle }, { headers });
  });
  app.get("/api/me", async (c) => {
    const { session, headers } = await guard(c);
    return Response.json({ userId: session!.userId, handle: session!.handle }, { headers });
  });
  app.get("/api/optional", async (c) => {
    const { session, headers } = await guard(c, { sessionRequired: false });
    return Response.json({ userId: session?.userId ?? null }, { headers });
  });
  app.get("/api/strict", async (c) => {
    const { session, headers } = await guard(c, { checkDatabase: true });
    return Response.json({ userId: session!.userId }, { headers });
  });
  app.post("/api/me", async (c) => {
    const { session, headers } = await guard(c);
    return Response.json({ userId: session!.userId }, { headers });
  });
  app.get("/api/admin", async (c) => {
    const { session, headers } = await guard(c, { overrideGlobalClaimValidators: (globals) => [...globals, ROLES_CLAIM.validators.includes("admin")] });
    return Response.json({ userId: session!.userId }, { headers });
  });
  app.post("/api/payload", async (c) => {
    const { session, headers } = await guard(c);
    await session!.mergeIntoAccessTokenPayload(await c.req.json());
    return Response.json({}, { headers });
  });
  app.get("/api/boom", async (c) => {
    await guard(c);
    throw new SessionError("STORE_UNAVAILABLE");
  });
  return app;
}
