// latchkey/hapi: the Hapi adapter's one public door. Session, SessionError and the claims
// come from "latchkey" itself.
export { hapiSessions } from "./plugin";
export type { HapiSessions } from "./plugin";
