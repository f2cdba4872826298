import type { Request } from "express";
import type session from "express-session";
import type { Session, SessionRequest, SessionSlot } from "latchkey";
import { expectType, type Equal } from "../default/assert";

declare const req: Request;
declare const behind: SessionRequest;

// What a program with the clash sees once skipLibCheck hides the TS2430 in the .d.ts files:
// req.session is express-session's alone (a member declared in Request itself wins over
// the one it inherits from latchkey's SessionSlot)...
expectType<Equal<typeof req.session, session.Session & Partial<session.SessionData>>>();
// @ts-expect-error -- latchkey's session is invisible on req.session...
req.session.userId;
// ...SessionRequest intersects the two (a type no object has at run time)...
expectType<Equal<typeof behind.session, session.Session & Partial<session.SessionData> & Session>>();
behind.session.userId;
behind.session.touch();
// ...and SessionSlot still says latchkey's.
expectType<Equal<SessionSlot, { session?: Session }>>();
