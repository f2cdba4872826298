import express, { type Request, type Response } from "express";
import session from "express-session";
import { getSession, memoryStore, sessionMiddleware, verifySession, type Session, type SessionProperty, type SessionRequest } from "latchkey";
import { expectType, type Equal } from "../default/assert";

declare module "latchkey" {
  interface TypeConfig {
    sessionProperty: "latchkey";
  }
}

declare module "express-session" {
  interface SessionData {
    views: number;
  }
}

expectType<Equal<SessionProperty, "latchkey">>();

const app = express();
app.use(session({ secret: "s", resave: false, saveUninitialized: false }));
app.use(sessionMiddleware({ store: memoryStore(), sessionProperty: "latchkey" }));

declare const req: Request;
declare const res: Response;

// req.session is express-session's...
expectType<Equal<typeof req.session, session.Session & Partial<session.SessionData>>>();
req.session.touch();
req.session.regenerate(() => {});
const views: number | undefined = req.session.views;
// @ts-expect-error -- userId is latchkey's, and not in express-session's SessionData.
req.session.userId;
// @ts-expect-error -- nor its payload.
req.session.accessTokenPayload;

// ...and latchkey's lives under req.latchkey.
expectType<Equal<typeof req.latchkey, Session | undefined>>();
const userId: string | undefined = req.latchkey?.userId;
// @ts-expect-error -- possibly undefined.
req.latchkey.userId;

// SessionRequest: req.latchkey is there, express-session's req.session too.
export function handler(req: SessionRequest, res: Response): void {
  expectType<Equal<typeof req.latchkey, Session>>();
  req.session.touch();
  res.json({ userId: req.latchkey.userId, views: req.session.views ?? 0 });
}

export async function programmatic(): Promise<void> {
  const found = await getSession(req, res);
  expectType<Equal<typeof found, Session>>();
  const created = await res.createSession("u");
  expectType<Equal<typeof created, Session>>();
}

app.get("/maybe", verifySession({ sessionRequired: false }), (req, res) => {
  res.json({ latchkey: req.latchkey?.userId ?? null, express: req.session.id });
});

export { views, userId };
