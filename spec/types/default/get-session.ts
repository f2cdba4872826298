import type { Request, Response } from "express";
import { getSession, Session, type VerifySessionOptions } from "latchkey";
import { expectType, type Equal } from "./assert";

export async function handler(req: Request, res: Response, options: VerifySessionOptions): Promise<void> {
  // sessionRequired omitted or true: a Session, never undefined.
  const session: Session = await getSession(req, res);
  session.userId;
  (await getSession(req, res)).userId;
  const required = await getSession(req, res, { sessionRequired: true });
  expectType<Equal<typeof required, Session>>();
  const withOptions = await getSession(req, res, { checkDatabase: true, antiCsrfCheck: false });
  expectType<Equal<typeof withOptions, Session>>();

  // sessionRequired: false: anonymous requests resolve undefined.
  const optional = await getSession(req, res, { sessionRequired: false });
  expectType<Equal<typeof optional, Session | undefined>>();
  // @ts-expect-error -- possibly undefined.
  optional.userId;
  optional?.userId;

  // A boolean known only at run time: undefined is possible.
  const dynamic = await getSession(req, res, options);
  expectType<Equal<typeof dynamic, Session | undefined>>();

  // @ts-expect-error -- unknown option.
  await getSession(req, res, { sessionRequird: false });
}
