// One app instance on one latchkey build, for spec/rolling-upgrade.upgrade.spec.ts: an
// Express app (POST /login, GET /api/me behind verifySession, latchkey's endpoints) on
// the build in LATCHKEY_BUILD (a dist/ directory), its tables under LATCHKEY_TABLE_PREFIX
// of LATCHKEY_DATABASE_URL. Sends its port to the parent once ready() resolved.
"use strict";
const express = require("express");
const latchkey = require(process.env.LATCHKEY_BUILD);

const sessions = latchkey.sessionMiddleware({
  store: latchkey.mysqlStore(process.env.LATCHKEY_DATABASE_URL, { tablePrefix: process.env.LATCHKEY_TABLE_PREFIX }),
  accessTokenTtl: process.env.LATCHKEY_ACCESS_TOKEN_TTL,
  logger: false,
});
const app = express();
app.use(express.json());
app.use(sessions);
app.post("/login", async (req, res, next) => {
  try {
    const session = await res.createSession(req.body.userId);
    res.json({ handle: session.handle });
  } catch (error) {
    next(error);
  }
});
app.get("/api/me", latchkey.verifySession(), (req, res) => res.json({ userId: req.session.userId, handle: req.session.handle }));
app.use(latchkey.errorHandler());

sessions.ready().then(
  () => {
    const server = app.listen(0, "127.0.0.1", () => process.send({ port: server.address().port }));
    process.on("message", (message) => {
      if (message !== "stop") return;
      server.close();
      server.closeAllConnections();
      sessions.close().finally(() => process.exit(0));
    });
  },
  (error) => {
    process.send({ error: String(error && error.cause ? error.cause.message : error) });
    process.exit(1);
  },
);
