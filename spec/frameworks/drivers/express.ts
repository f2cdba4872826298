import type { Server } from "node:http";
import express from "express";
import { errorHandler, SessionError, sessionMiddleware, verifySession, withSession, type SessionMiddlewareOptions } from "../../../lib";
import type { FrameworkApp, FrameworkDriver } from "../driver";
import { ROLES_CLAIM } from "../roles";
import { runningApp } from "./running";

/**
 * The Express app of the framework conformance suite, written as docs/frameworks/express.md and
 * the README tell users: `sessionMiddleware()` at the root, `res.createSession` in the login,
 * `verifySession()` on the routes, `errorHandler()` after them. Every async route passes its
 * rejection on (try/catch or `withSession`), so the same app runs on Express 4, which the
 * express4 jest project maps `express` to.
 */
export const expressDriver: FrameworkDriver = {
  name: "express",
  apiBasePath: "/auth",
  async start(options: SessionMiddlewareOptions): Promise<FrameworkApp> {
    const sessions = sessionMiddleware(options);
    const app = express();
    app.use(express.json());
    app.use(sessions);

    app.post("/login", async (req, res, next) => {
      try {
        const { userId, rememberMe, sessionTtl, accessTokenPayload, reauthenticate } = req.body;
        const session = await res.createSession(userId, { rememberMe, sessionTtl, accessTokenPayload, reauthenticate });
        res.json({ handle: session.handle });
      } catch (error) {
        next(error);
      }
    });
    app.get("/api/me", verifySession(), withSession((req, res) => res.json({ userId: req.session.userId, handle: req.session.handle })));
    app.get("/api/optional", verifySession({ sessionRequired: false }), (req, res) => res.json({ userId: req.session?.userId ?? null }));
    app.get("/api/strict", verifySession({ checkDatabase: true }), withSession((req, res) => res.json({ userId: req.session.userId })));
    app.post("/api/me", verifySession(), withSession((req, res) => res.json({ userId: req.session.userId })));
    app.get(
      "/api/admin",
      verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, ROLES_CLAIM.validators.includes("admin")] }),
      withSession((req, res) => res.json({ userId: req.session.userId })),
    );
    app.post(
      "/api/payload",
      verifySession(),
      withSession(async (req, res) => {
        await req.session.mergeIntoAccessTokenPayload(req.body);
        res.json({});
      }),
    );
    app.get("/api/boom", verifySession(), () => {
      throw new SessionError("STORE_UNAVAILABLE");
    });
    app.use(errorHandler());

    const server = await listen(app);
    return runningApp(server, sessions);
  },
};

function listen(app: express.Express): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(0, "127.0.0.1", () => resolve(server));
    server.once("error", reject);
  });
}
