import type { Server } from "node:http";
import Koa from "koa";
import compose from "koa-compose";
import { SessionError, type CreateSessionOptions, type SessionMiddlewareOptions } from "../../../lib";
import { koaSessions, verifySession } from "../../../lib/frameworks/koa";
import type { FrameworkApp, FrameworkDriver } from "../driver";
import { ROLES_CLAIM } from "../roles";
import { runningApp } from "./running";

type LoginBody = { userId: string } & Pick<CreateSessionOptions, "rememberMe" | "sessionTtl" | "accessTokenPayload" | "reauthenticate">;

/**
 * The Koa app of the framework conformance suite, written as docs/frameworks/koa.md tells
 * users: `app.use(koaSessions())` before the routes, `ctx.createSession` in the login,
 * `verifySession()` in front of each guarded route. Koa ships no router or body parser and
 * none is installed here, so `route` and `jsonBody` below stand in for @koa/router and
 * @koa/bodyparser (same shapes: `ctx.request.body`, a route's middleware composed in order).
 */
export const koaDriver: FrameworkDriver = {
  name: "koa",
  apiBasePath: "/auth",
  async start(options: SessionMiddlewareOptions): Promise<FrameworkApp> {
    const sessions = koaSessions(options);
    const app = new Koa();
    app.use(jsonBody);
    app.use(sessions);

    app.use(
      route("POST", "/login", async (ctx) => {
        const { userId, rememberMe, sessionTtl, accessTokenPayload, reauthenticate } = bodyOf(ctx) as LoginBody;
        const session = await ctx.createSession(userId, { rememberMe, sessionTtl, accessTokenPayload, reauthenticate });
        ctx.body = { handle: session.handle };
      }),
    );
    app.use(
      route("GET", "/api/me", verifySession(), (ctx) => {
        ctx.body = { userId: ctx.state.session!.userId, handle: ctx.state.session!.handle };
      }),
    );
    app.use(
      route("GET", "/api/optional", verifySession({ sessionRequired: false }), (ctx) => {
        ctx.body = { userId: ctx.state.session?.userId ?? null };
      }),
    );
    app.use(
      route("GET", "/api/strict", verifySession({ checkDatabase: true }), (ctx) => {
        ctx.body = { userId: ctx.state.session!.userId };
      }),
    );
    app.use(
      route("POST", "/api/me", verifySession(), (ctx) => {
        ctx.body = { userId: ctx.state.session!.userId };
      }),
    );
    app.use(
      route("GET", "/api/admin", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, ROLES_CLAIM.validators.includes("admin")] }), (ctx) => {
        ctx.body = { userId: ctx.state.session!.userId };
      }),
    );
    app.use(
      route("POST", "/api/payload", verifySession(), async (ctx) => {
        await ctx.state.session!.mergeIntoAccessTokenPayload(bodyOf(ctx) as Record<string, unknown>);
        ctx.body = {};
      }),
    );
    app.use(
      route("GET", "/api/boom", verifySession(), () => {
        throw new SessionError("STORE_UNAVAILABLE");
      }),
    );

    const server = await listen(app);
    return runningApp(server, sessions);
  },
};

/** A route as @koa/router gives one: its middleware run in order for one method and path. */
export function route(method: string, path: string, ...middleware: Koa.Middleware[]): Koa.Middleware {
  const chain = compose(middleware);
  return (ctx, next) => (ctx.method === method && ctx.path === path ? chain(ctx, next) : next());
}

/** A JSON body parser as @koa/bodyparser gives one: `ctx.request.body`. */
export async function jsonBody(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  if (ctx.is("application/json")) {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    (ctx.request as { body?: unknown }).body = text === "" ? {} : JSON.parse(text);
  }
  await next();
}

/** What `jsonBody` parsed (typed by @koa/bodyparser's augmentation in an app that uses it). */
function bodyOf(ctx: Koa.Context): unknown {
  return (ctx.request as { body?: unknown }).body;
}

function listen(app: Koa): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, "127.0.0.1", () => resolve(server));
    server.once("error", reject);
  });
}
