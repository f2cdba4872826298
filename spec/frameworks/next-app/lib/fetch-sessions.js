// The App Router half of the app (app/app-router/…), on latchkey/fetch as docs/frameworks/fetch.md
// shows. In an app:
//
//   import { fetchSessions } from "latchkey/fetch";
//   export const sessions = fetchSessions({ apiBasePath: "/api/auth" });
//
// As in lib/sessions.js, the driver builds fetchSessions(options) per start(options) and hands it
// over through serve.js; these forwarders reach the one of the server that got the request.
const current = () => {
  const fixture = globalThis.__latchkeyNextFixture;
  if (!fixture) throw new Error("next-app: start it through spec/frameworks/drivers/next.ts");
  return fixture.sessions;
};

export const sessions = {
  handle: (request, options) => current().handle(request, options),
  getSession: (request, options) => current().getSession(request, options),
  createSession: (request, userId, options) => current().createSession(request, userId, options),
  errorResponse: (error, request, options) => current().errorResponse(error, request, options),
};

// A route handler has no socket: the client's IP is the X-Forwarded-For that next start fills in
// from the socket (trust it only behind a proxy that overwrites it, as the docs say).
export const ip = (request) => request.headers.get("x-forwarded-for")?.split(",")[0]?.trim();

/** A guarded route handler: `respond(session, headers, request)` builds the Response; a refusal is latchkey's. */
export function guarded(respond, options) {
  return async function handler(request) {
    const headers = new Headers();
    try {
      const session = await sessions.getSession(request, { ...options, headers, ip: ip(request) });
      return await respond(session, headers, request);
    } catch (error) {
      const refused = sessions.errorResponse(error, request, { ip: ip(request) });
      if (refused) return refused;
      throw error;
    }
  };
}
