import express, { Router, type NextFunction, type Response } from "express";
import { verifySession, withSession, type Session, type SessionRequest } from "latchkey";
import { expectType, type Equal } from "../default/assert";

function me(req: SessionRequest, res: Response): void {
  res.json({ userId: req.session.userId });
}

const app = express();
// Express checks each handler against one Request type (session optional): a
// SessionRequest handler goes through withSession, which also catches async rejections.
// @ts-expect-error a bare SessionRequest handler is not a RequestHandler
app.get("/bare", verifySession(), (req: SessionRequest, res: Response) => res.json({ userId: req.session.userId }));
app.get("/me", verifySession(), withSession((req, res) => {
  expectType<Equal<typeof req.session, Session>>();
  res.json({ userId: req.session.userId });
}));
app.get("/me2", verifySession(), withSession(me));
app.post("/next", verifySession(), withSession(async (req, _res, next: NextFunction) => {
  req.session.userId;
  next();
}));
app.get("/users/:id", verifySession(), withSession((req, res) => {
  res.json({ id: req.params.id, userId: req.session.userId });
}));
const router = Router();
router.get("/me", verifySession({ checkDatabase: true }), withSession((req, res) => {
  res.send(req.session.userId);
}));
app.use("/api", router);
