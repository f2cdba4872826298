// @ts-check
// A minimal latchkey app: log in, call a protected route, refresh, sign out.
// It imports the package by name, as your app would (npm start builds it first).
const crypto = require("node:crypto");
const path = require("node:path");
const express = require("express");
const { sessionMiddleware, verifySession, errorHandler } = require("latchkey");

const PORT = Number(process.env.PORT ?? 3000);
const DEMO_USER = { id: "user-1", name: "demo", password: "latchkey-demo" };

// Passwords are only ever kept as scrypt hashes, compared in constant time.
const salt = crypto.randomBytes(16);
const demoHash = crypto.scryptSync(DEMO_USER.password, salt, 32);

/** @param {unknown} name @param {unknown} password @returns {string | undefined} */
function checkPassword(name, password) {
  if (typeof name !== "string" || typeof password !== "string") return undefined;
  const hash = crypto.scryptSync(password, salt, 32);
  return name === DEMO_USER.name && crypto.timingSafeEqual(hash, demoHash) ? DEMO_USER.id : undefined;
}

const app = express();
app.use(express.json());
app.use(sessionMiddleware({ accessTokenTtl: process.env.ACCESS_TOKEN_TTL ?? "15m" }));
app.use(express.static(path.join(__dirname, "public")));

app.post("/login", async (req, res, next) => {
  try {
    const userId = checkPassword(req.body?.name, req.body?.password);
    if (!userId) {
      res.status(401).json({ message: "Wrong user name or password." });
      return;
    }
    await res.createSession(userId, { accessTokenPayload: { name: DEMO_USER.name } });
    res.json({ message: "User logged in!" });
  } catch (error) {
    next(error);
  }
});

app.get("/api/me", verifySession(), (req, res) => {
  const session = /** @type {import("latchkey").Session} */ (req.session);
  res.json({ userId: session.userId, handle: session.handle, payload: session.accessTokenPayload, expiresAt: session.expiresAt });
});

app.use(errorHandler());

app.listen(PORT, () => {
  console.log(`latchkey sample app on http://localhost:${PORT}`);
  console.log(`log in as "${DEMO_USER.name}" with password "${DEMO_USER.password}"`);
});
