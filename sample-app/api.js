// @ts-check
// The JSON API behind the pages, mounted at /api. Sign-up and log-in create a latchkey
// session; every other route is behind verifySession(). The routes that revoke sessions
// or change the password also confirm against the database that the asking session is
// still live; the admin route checks the session's role claim; the password change
// needs a recent login (requireFresh), which re-entering the password renews.
const express = require("express");
const { requireFresh, verifySession } = require("latchkey");
const { describeDevice, displayIp } = require("./devices");
const { ADMIN } = require("./users");

const WRONG_CREDENTIALS = "That user name and password don't match. Check them and try again.";

/**
 * @typedef {object} ApiDeps
 * @property {import("./users").Users} users
 * @property {import("latchkey").SessionManagement} sessions
 * @property {import("latchkey").PrimitiveArrayClaim<string>} roles the claim listed in sessionMiddleware's `claims`
 * @property {number} accessTokenTtlSeconds the lifetime latchkey was given, for the dashboard
 * @property {number} freshSeconds how recent a login must be to change the password
 */

/**
 * @param {ApiDeps} deps
 * @returns {express.Router}
 */
function apiRouter({ users, sessions, roles: Roles, accessTokenTtlSeconds, freshSeconds }) {
  const router = express.Router();
  const signedIn = verifySession();
  const signedInLive = verifySession({ checkDatabase: true });
  // The role is checked on the server, from the token's claim: hiding the admin page's
  // link in the browser is a convenience, this is the guard.
  const admin = verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, Roles.validators.includes(ADMIN)] });
  // A stolen session that sat open somewhere cannot change the password without it.
  const recentLogin = verifySession({ checkDatabase: true, overrideGlobalClaimValidators: (globals) => [...globals, requireFresh(freshSeconds)] });

  router.post("/signup", async (req, res) => {
    const result = await users.signUp(req.body?.name, req.body?.password);
    if ("error" in result) {
      res.status(result.status).json({ message: result.error });
      return;
    }
    // latchkey adds the role claim ("st-role") to the payload itself: it is in `claims`.
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
    const { handle, expiresAt, authTime, accessTokenPayload } = session;
    res.json({
      user,
      session: { handle, expiresAt, authTime, accessTokenPayload },
      settings: { accessTokenTtlMs: accessTokenTtlSeconds * 1000, freshSeconds },
    });
  });

  // What every signed-in page calls every few seconds while it is visible. verifySession
  // does the work: a claim invalidated since this token was signed (a role change on
  // another device) is fetched again and the token re-signed on this response, so the
  // page sees its new front token. No database read otherwise.
  router.get("/heartbeat", signedIn, (_req, res) => {
    res.status(204).end();
  });

  // Demo only: anyone may make themselves an admin, to show a role change reaching every
  // device. A real app lets only an admin grant roles.
  router.post("/me/admin", signedInLive, async (req, res) => {
    const session = sessionOf(req);
    const wanted = req.body?.admin;
    if (typeof wanted !== "boolean") {
      res.status(400).json({ message: "Send { admin: true } or { admin: false }." });
      return;
    }
    const roles = await users.setAdmin(session.userId, wanted);
    if (!roles) {
      res.status(404).json({ message: "That account no longer exists." });
      return;
    }
    // Every session of this user refetches the claim at its next request, on every
    // instance within seconds; this one is re-signed on this very response.
    await sessions.invalidateClaim(session.userId, Roles);
    await session.fetchAndSetClaim(Roles);
    res.json({ roles });
  });

  router.get("/admin/accounts", admin, async (req, res) => {
    const me = sessionOf(req).userId;
    const accounts = (await users.list()).map(({ id, name, createdAt, roles }) => ({ name, createdAt, roles, you: id === me }));
    res.json({ accounts });
  });

  router.post("/me/password", recentLogin, async (req, res) => {
    const session = sessionOf(req);
    const result = await users.changePassword(session.userId, req.body?.password);
    if ("error" in result) {
      res.status(result.status).json({ message: result.error });
      return;
    }
    // Whoever else holds a session of this account (the reason to change it, often) is out.
    const revoked = await sessions.revokeOtherSessions(session.handle);
    res.json({ signedOutOthers: revoked.length });
  });

  // The step-up log-in: the current password renews this session's login time (authTime)
  // in place — same session, same handle, same refresh token — so requireFresh passes.
  router.post("/reauthenticate", signedIn, async (req, res) => {
    const session = sessionOf(req);
    if (!(await users.checkPassword(session.userId, req.body?.password))) {
      // Not 401: the frontend SDK takes a 401 for an expired session and would refresh.
      res.status(400).json({ message: "That is not your current password. Try again." });
      return;
    }
    const renewed = await res.createSession(session.userId, { reauthenticate: true });
    res.json({ authTime: renewed.authTime });
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
    const handle = String(req.params.handle);
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
