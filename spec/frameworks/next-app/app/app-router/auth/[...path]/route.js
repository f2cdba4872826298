import { ip, sessions } from "../../../../lib/fetch-sessions";

// latchkey's endpoints under /app-router/auth: refresh, sign-out, JWKS.
async function auth(request) {
  return (await sessions.handle(request, { ip: ip(request) })) ?? Response.json({ message: "not found" }, { status: 404 });
}

export { auth as GET, auth as POST };
