import express, { type Request, type Response } from "express";
import { BooleanClaim, getSession, memoryStore, Session, SessionError, sessionMiddleware, verifySession, type SessionRequest } from "latchkey";
import type { Equal } from "../default/assert.js";

const proof: Equal<Awaited<ReturnType<typeof optional>>, Session | undefined> = true;

const app = express();
app.use(sessionMiddleware({ store: memoryStore() }));
app.get("/me", verifySession(), (req, res) => {
  res.json({ userId: req.session?.userId ?? null, role: req.session?.accessTokenPayload.role ?? null });
});

export const me = (req: SessionRequest, res: Response): void => {
  res.json({ userId: req.session.userId });
};

async function optional(req: Request, res: Response): Promise<Session | undefined> {
  const required: Session = await getSession(req, res);
  required.userId;
  // @ts-expect-error -- "root" is not a role (the augmentation in ../default/augment.ts applies here too).
  await required.mergeIntoAccessTokenPayload({ role: "root" });
  return getSession(req, res, { sessionRequired: false });
}

export const claim = new BooleanClaim({ key: "st-ev", fetchValue: () => true });
export { proof, optional, SessionError };
