import { ip, sessions } from "../../../lib/fetch-sessions";

export async function POST(request) {
  try {
    const { userId, rememberMe, sessionTtl, accessTokenPayload, reauthenticate } = await request.json();
    const { session, headers } = await sessions.createSession(request, userId, { rememberMe, sessionTtl, accessTokenPayload, reauthenticate, ip: ip(request) });
    return Response.json({ handle: session.handle }, { headers });
  } catch (error) {
    const refused = sessions.errorResponse(error, request, { ip: ip(request) });
    if (refused) return refused;
    throw error;
  }
}
