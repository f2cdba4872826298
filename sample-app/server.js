// @ts-check
// latchkey's sample app: sign up, log in, a dashboard, active sessions with revoke, sign out.
// It imports the package by name, as your app would (`npm start` builds it first).
const fs = require("node:fs");
const path = require("node:path");
const express = require("express");
const { sessionMiddleware, verifySession, errorHandler } = require("latchkey");
const { createUsers } = require("./users");
const { describeDevice } = require("./devices");

const DEMO = { email: "demo@latchkey.dev", name: "Demo User", password: "latchkey-demo" };
const SDK_DIR = path.join(path.dirname(require.resolve("supertokens-web-js/package.json")), "bundle");

/**
 * Builds the app. `options.accessTokenTtl` shortens access tokens to show refresh at work.
 * @param {{ databaseUrl?: string, accessTokenTtl?: string }} options
 */
async function createSampleApp(options = {}) {
  const users = await createUsers(options.databaseUrl);
  if (!(await users.find(DEMO.email))) await users.signUp(DEMO.email, DEMO.name, DEMO.password);

  const sessions = sessionMiddleware({
    ...(options.databaseUrl ? { store: options.databaseUrl } : {}),
    accessTokenTtl: options.accessTokenTtl ?? "15m",
  });
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.use(express.json({ limit: "10kb" }));
  app.use(sessions);
  app.use(express.static(path.join(__dirname, "public"), { extensions: ["html"] }));
  // The SuperTokens frontend SDK from node_modules (supertokens-web-js's browser bundles, in load order).
  const sdk = ["website", "supertokens", "session"]
    .map((name) => fs.readdirSync(SDK_DIR).find((file) => file.startsWith(`${name}.`) && file.endsWith(".js")))
    .map((file) => fs.readFileSync(path.join(SDK_DIR, /** @type {string} */ (file)), "utf8"))
    .join(";\n");
  app.get("/sdk.js", (_req, res) => void res.type("js").set("Cache-Control", "public, max-age=3600").send(sdk));

  /** @param {import("express").Response} res @param {number} status @param {string} message */
  const refuse = (res, status, message) => void res.status(status).json({ message });

  app.post("/api/signup", async (req, res) => {
    const { email, name, password } = req.body ?? {};
    if (typeof email !== "string" || !/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 255) return refuse(res, 400, "Enter a valid email address.");
    if (typeof name !== "string" || name.trim().length === 0 || name.length > 100) return refuse(res, 400, "Enter your name.");
    if (typeof password !== "string" || password.length < 10 || password.length > 200) return refuse(res, 400, "Use a password of at least 10 characters.");
    const user = await users.signUp(email.toLowerCase(), name.trim(), password);
    if (!user) return refuse(res, 409, "An account with that email already exists. Log in instead.");
    await res.createSession(user.id, { accessTokenPayload: { name: user.name, email: user.email } });
    res.json({ message: "Welcome!" });
  });

  app.post("/api/login", async (req, res) => {
    const { email, password } = req.body ?? {};
    const user = typeof email === "string" && typeof password === "string" ? await users.logIn(email.toLowerCase(), password) : undefined;
    if (!user) return refuse(res, 401, "That email and password do not match. Try again.");
    await res.createSession(user.id, { accessTokenPayload: { name: user.name, email: user.email } });
    res.json({ message: "User logged in!" });
  });

  app.get("/api/me", verifySession(), (req, res) => {
    const session = /** @type {import("latchkey").Session} */ (req.session);
    res.json({ userId: session.userId, handle: session.handle, expiresAt: session.expiresAt, payload: session.accessTokenPayload });
  });

  app.get("/api/sessions", verifySession(), async (req, res) => {
    const session = /** @type {import("latchkey").Session} */ (req.session);
    const list = await sessions.listSessions(session.userId, { currentHandle: session.handle });
    res.json(
      list.map((s) => ({
        handle: s.handle,
        current: s.current,
        device: describeDevice(s.userAgent),
        ip: s.ip,
        createdAt: s.createdAt,
        lastActiveAt: s.lastRefreshedAt,
        expiresAt: s.expiresAt,
      })),
    );
  });

  // Revocation reads the row (checkDatabase) so a just-revoked device cannot revoke others.
  app.post("/api/sessions/:handle/revoke", verifySession({ checkDatabase: true }), async (req, res) => {
    const session = /** @type {import("latchkey").Session} */ (req.session);
    const target = await sessions.getSessionInformation(req.params.handle);
    if (!target || target.userId !== session.userId) return refuse(res, 404, "No such session.");
    res.json({ revoked: await sessions.revokeSession(target.handle) });
  });

  app.post("/api/sessions/revoke-others", verifySession({ checkDatabase: true }), async (req, res) => {
    const session = /** @type {import("latchkey").Session} */ (req.session);
    res.json({ revoked: await sessions.revokeOtherSessions(session.handle) });
  });

  app.use(errorHandler());
  return { app, sessions };
}

module.exports = { createSampleApp, DEMO };

if (require.main === module) {
  const port = Number(process.env.PORT ?? 3000);
  createSampleApp({ databaseUrl: process.env.LATCHKEY_DATABASE_URL, accessTokenTtl: process.env.ACCESS_TOKEN_TTL }).then(({ app }) => {
    app.listen(port, () => {
      const store = process.env.LATCHKEY_DATABASE_URL ? "MySQL (LATCHKEY_DATABASE_URL)" : "the embedded in-memory store";
      console.log(`latchkey sample app on http://localhost:${port} (sessions in ${store})`);
      console.log(`log in as ${DEMO.email} with password ${DEMO.password}, or sign up`);
    });
  });
}
