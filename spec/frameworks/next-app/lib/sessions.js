// In an app this file is the one place latchkey is configured:
//
//   import { nextSessions } from "latchkey/next";
//   export const sessions = nextSessions(); // endpoints under /api/auth
//
// The conformance driver (spec/frameworks/drivers/next.ts) runs this app in its own process and
// builds nextSessions(options) for each start(options) itself (options hold functions and store
// objects, which no file or environment variable can carry), handing it over on globalThis. These
// forwarders reach the current one, so the routes below are written exactly as the docs show.
const current = () => {
  const fixture = globalThis.__latchkeyNextFixture;
  if (!fixture) throw new Error("next-app: start it through spec/frameworks/drivers/next.ts");
  return fixture;
};

export const sessions = {
  apiHandler: (req, res) => current().sessions.apiHandler(req, res),
  withSession: (handler, options) => (req, res) => current().sessions.withSession(handler, options)(req, res),
  createSession: (req, res, userId, options) => current().sessions.createSession(req, res, userId, options),
  sendSessionError: (error, req, res) => current().sessions.sendSessionError(error, req, res),
};

// latchkey's SessionError and the suite's roles claim, from the driver's copies (instanceof must hold).
export const SessionError = new Proxy(function SessionError() {}, {
  construct: (_target, args) => new (current().SessionError)(...args),
});
export const ROLES_CLAIM = { validators: { includes: (role) => current().ROLES_CLAIM.validators.includes(role) } };
