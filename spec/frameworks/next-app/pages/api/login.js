import { sessions } from "../../lib/sessions";

// POST /login (rewritten here by next.config.js).
export default async function login(req, res) {
  try {
    const { userId, rememberMe, sessionTtl, accessTokenPayload, reauthenticate } = req.body;
    const session = await sessions.createSession(req, res, userId, { rememberMe, sessionTtl, accessTokenPayload, reauthenticate });
    res.json({ handle: session.handle });
  } catch (error) {
    if (!sessions.sendSessionError(error, req, res)) throw error;
  }
}
