// @ts-check
// The JSON API behind the pages, mounted at /api. Sign-up and log-in create a latchkey
// session; every other route is behind verifySession(), and the routes that revoke
// sessions also confirm against the database that the asking session is still live.
const express = require("express");
const { verifySession } = require("latchkey");
const { describeDevice, displayIp } = require("./devices");

const WRONG_CREDENTIALS = "That user name and password don't match. Check them and try again.";

/**
 * @param {{ users: import("./users").Users, sessions: import("latchkey").SessionManagement }} deps
 * @returns {express.Router}
 */
function apiRouter({ users, sessions }) {
  const router = express.Router();
  const signedIn = verifySession();
  const signedInLive = verifySession({ checkDatabase: true });

  router.post("/signup", async (req, res) => {
    const result = await users.signUp(req.body?.name, req.body?.password);
    if ("error" in result) {
      res.status(result.status).json({ message: result.error });
      return;
    }
    await res.createSession(result.user.id, { accessTokenPayload: { name: result.user.name } });
    res.status(201).json({ user: result.user });
  });

  router.post("/login", async (req, res) => {
    const user = await users.logIn(req.body?.name, req.body?.password);
    if (!user) {
      res.status(401).json({ message: WRONG_CREDENTIALS });
      return;
    }
    await res.createSession(user.id, { accessTokenPayload: { name: user.name } });
    res.json({ user });
  });

  router.get("/me", signedIn, async (req, res) => {
    const session = sessionOf(req);
    const user = await users.get(session.userId);
    if (!user) {
      // The account is gone (an in-memory app restarted against a MySQL session store, say).
      await session.revoke();
      res.status(401).json({ message: "unauthorised" });
      return;
    }
    const { handle, expiresAt, accessTokenPayload } = session;
    res.json({ user, session: { handle, expiresAt, accessTokenPayload } });
  });

  router.get("/sessions", signedIn, async (req, res) => {
    const session = sessionOf(req);
    const listed = await sessions.listSessions(session.userId, { currentHandle: session.handle });
    const devices = listed.map((info) => ({
      handle: info.handle,
      current: info.current,
      device: describeDevice(info.userAgent),
      ip: displayIp(info.ip),
      createdAt: info.createdAt,
      lastActiveAt: info.lastRefreshedAt,
    }));
    devices.sort((a, b) => Number(b.current) - Number(a.current) || b.lastActiveAt - a.lastActiveAt);
    res.json({ sessions: devices });
  });

  router.delete("/sessions/:handle", signedInLive, async (req, res) => {
    const session = sessionOf(req);
    const handle = req.params.handle;
    // A handle is no secret: a session may only be revoked by the user it belongs to.
    // Someone else's handle answers exactly like an unknown one.
    const target = await sessions.getSessionInformation(handle);
    if (!target || target.userId !== session.userId || target.revokedAt !== null) {
      res.status(404).json({ message: "No such session." });
      return;
    }
    if (handle === session.handle) await session.revoke(); // also clears this device's tokens
    else await sessions.revokeSession(handle);
    res.status(204).end();
  });

  router.post("/sessions/revoke-others", signedInLive, async (req, res) => {
    const revoked = await sessions.revokeOtherSessions(sessionOf(req).handle);
    res.json({ revoked: revoked.length });
  });

  router.use((_req, res) => {
    res.status(404).json({ message: "Not found." });
  });
  return router;
}

/** The session verifySession() has set. @param {express.Request} req */
function sessionOf(req) {
  if (!req.session) throw new Error("verifySession() must run before this route");
  return req.session;
}

module.exports = { apiRouter };
