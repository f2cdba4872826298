import express, { type Response } from "express";
import { verifySession, type Session, type SessionRequest } from "latchkey";
import { expectType, type Equal } from "./assert";

// A handler behind verifySession(): its session is always there.
export const me = (req: SessionRequest, res: Response): string => {
  expectType<Equal<typeof req.session, Session>>();
  res.json({ userId: req.session.userId });
  return req.session.userId;
};

// SessionRequest keeps the rest of Express's Request.
export function rest(req: SessionRequest): void {
  req.get("origin");
  req.params;
  req.session.accessTokenPayload.role;
}

// Behind an optional verifySession() the handler keeps the plain Request.
const app = express();
app.get("/maybe", verifySession({ sessionRequired: false }), (req, res) => {
  res.json({ userId: req.session?.userId ?? null });
  // @ts-expect-error -- possibly undefined behind an optional verifySession.
  req.session.userId;
});
