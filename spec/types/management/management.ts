import { memoryStore, sessionManager, sessionMiddleware, type Session, type SessionManagement } from "latchkey";
import { expectType, type Equal } from "../default/assert";

const middleware = sessionMiddleware({ store: memoryStore() });
const manager: SessionManagement = sessionManager({ store: memoryStore() });

export async function manage(management: SessionManagement = middleware): Promise<void> {
  await management.mergeIntoAccessTokenPayload("handle", { role: "admin" });
  await management.mergeIntoAccessTokenPayload("handle", { role: null }); // null deletes
  await management.mergeIntoAccessTokenPayload("handle", { theme: "dark" });
  // @ts-expect-error -- "root" is not a role.
  await management.mergeIntoAccessTokenPayload("handle", { role: "root" });

  const created = await management.createNewSessionWithoutRequestResponse("u", { accessTokenPayload: { role: "member" }, sessionData: { cart: [] } });
  expectType<Equal<typeof created.session, Session>>();
  // @ts-expect-error -- "root" is not a role.
  await management.createNewSessionWithoutRequestResponse("u", { accessTokenPayload: { role: "root" } });
  // @ts-expect-error -- the payload is an object of claims.
  await management.createNewSessionWithoutRequestResponse("u", { accessTokenPayload: "admin" });
  // @ts-expect-error -- the session data is an object.
  await management.createNewSessionWithoutRequestResponse("u", { sessionData: 42 });

  const required = await management.getSessionWithoutRequestResponse("token");
  expectType<Equal<typeof required, Session>>();
  const optional = await management.getSessionWithoutRequestResponse("token", { sessionRequired: false });
  expectType<Equal<typeof optional, Session | undefined>>();
}

export { manager };
