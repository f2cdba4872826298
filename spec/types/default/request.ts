import type { Request, Response } from "express";
import type { Session } from "latchkey";
import { expectType, type Equal } from "./assert";

declare const req: Request;
declare const res: Response;

// req.session: latchkey's Session, unset until verifySession() ran.
expectType<Equal<typeof req.session, Session | undefined>>();
const userId: string | undefined = req.session?.userId;
expectType<Equal<typeof userId, string | undefined>>();
// @ts-expect-error -- req.session is possibly undefined.
req.session.userId;

// The access-token payload is read-only (frozen at run time)...
// @ts-expect-error -- "x" is no role, and the payload is read-only anyway.
req.session!.accessTokenPayload.role = "x";
// @ts-expect-error -- a valid role, but the payload is read-only.
req.session!.accessTokenPayload.role = "admin";
// @ts-expect-error -- undeclared claims are read-only too.
req.session!.accessTokenPayload.anything = 1;
// @ts-expect-error -- no deleting either.
delete req.session!.accessTokenPayload.role;

// ...and typed by the augmented AccessTokenPayload (undeclared claims are unknown).
expectType<Equal<typeof req.session, Session | undefined>>();
const payload = req.session!.accessTokenPayload;
expectType<Equal<typeof payload.role, "admin" | "member" | undefined>>();
expectType<Equal<typeof payload.anything, unknown>>();

async function merge(session: Session): Promise<void> {
  await session.mergeIntoAccessTokenPayload({ role: "admin" });
  await session.mergeIntoAccessTokenPayload({ role: null }); // null deletes
  await session.mergeIntoAccessTokenPayload({ role: undefined });
  await session.mergeIntoAccessTokenPayload({ theme: "dark", count: 2 }); // undeclared claims: anything
  // @ts-expect-error -- "root" is not a role.
  await session.mergeIntoAccessTokenPayload({ role: "root" });
  // @ts-expect-error -- a role is a string.
  await session.mergeIntoAccessTokenPayload({ role: 1 });
}

async function create(): Promise<Session> {
  // @ts-expect-error -- the user id is a string.
  await res.createSession(42);
  // @ts-expect-error -- "root" is not a role.
  await res.createSession("u", { accessTokenPayload: { role: "root" } });
  // @ts-expect-error -- unknown option.
  await res.createSession("u", { rememberMee: false });
  await res.createSession("u", { accessTokenPayload: { role: "member", theme: "dark" }, sessionData: { cart: [] }, rememberMe: false });
  const session = await res.createSession("u");
  expectType<Equal<typeof session, Session>>();
  return session;
}

// getSessionData<T>() resolves T; the default is a record of unknowns.
async function data(session: Session): Promise<void> {
  const typed = await session.getSessionData<{ plan: string }>();
  expectType<Equal<typeof typed, { plan: string }>>();
  const plain = await session.getSessionData();
  expectType<Equal<typeof plain, Record<string, unknown>>>();
  // @ts-expect-error -- T is an object type.
  await session.getSessionData<string>();
}

export { merge, create, data };
