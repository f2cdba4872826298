import express from "express";
import { errorHandler, memoryStore, sessionMiddleware, verifySession, type SessionMiddlewareOptions } from "../lib";
import { accessCookie, request, setCookies } from "./helpers";

// Issue 12 items 2 and 4: express-session (or passport's session) beside latchkey, and a
// middleware mounted under a path.
// Loaded without its types on purpose: @types/express-session augments Request.session for
// the whole program, and this suite type-checks as one program (spec/types checks the two
// type sets side by side, with the TypeConfig that lets them coexist).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const expressSession = require("express-session") as (options: Record<string, unknown>) => express.RequestHandler;
type LegacySession = { views?: number };

function app(options: SessionMiddlewareOptions, order: "express-session first" | "latchkey first") {
  const application = express();
  application.use(express.json());
  const legacy = expressSession({ secret: "a-test-secret-of-the-old-login", resave: false, saveUninitialized: true });
  const sessions = sessionMiddleware({ store: memoryStore(), logger: false, ...options });
  if (order === "express-session first") application.use(legacy, sessions);
  else application.use(sessions, legacy);
  application.post("/login", async (_req, res, next) => {
    try {
      const session = await res.createSession("user-1");
      res.json({ handle: session.handle });
    } catch (error) {
      next(error);
    }
  });
  // A route still on the old session, one already on latchkey.
  application.get("/old", (req, res) => {
    const legacy = (req as unknown as { session: LegacySession }).session;
    legacy.views = (legacy.views ?? 0) + 1;
    res.json({ views: legacy.views });
  });
  application.get("/new", verifySession(), (req, res) => {
    const latchkey = (req as unknown as Record<string, { userId: string } | undefined>)[options.sessionProperty ?? "session"];
    res.json({ userId: latchkey?.userId ?? null });
  });
  application.use(errorHandler());
  application.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ name: error.name, message: error.message });
  });
  return application;
}

describe.each(["express-session first", "latchkey first"] as const)("beside express-session (%s)", (order) => {
  it("works side by side with sessionProperty: the old routes keep req.session, latchkey lives in req.latchkey", async () => {
    // An app declares TypeConfig { sessionProperty: "latchkey" } (spec/types does); this spec
    // program shares its types with every other spec, which keep req.session.
    const application = app({ sessionProperty: "latchkey" as never }, order);
    const login = await request(application).post("/login").expect(200);
    const cookies = setCookies(login);
    const header = [...cookies.values()].map((cookie) => `${cookie.name}=${encodeURIComponent(cookie.value)}`).join("; ");
    expect([...cookies.keys()].sort()).toEqual(["connect.sid", "sAccessToken", "sRefreshToken"]);
    const first = await request(application).get("/old").set("Cookie", header).expect(200);
    const second = await request(application).get("/old").set("Cookie", header).expect(200);
    expect([first.body.views, second.body.views]).toEqual([1, 2]);
    const me = await request(application).get("/new").set("Cookie", header).expect(200);
    expect(me.body).toEqual({ userId: "user-1" });
  });

  it("fails fast, naming the clash and the fix, when both want req.session: never a hang", async () => {
    const application = app({}, order);
    const login = await request(application).post("/login").timeout(3000);
    // express-session first: latchkey refuses to write over its object. latchkey first:
    // express-session replaces nothing of ours before the route, so the login goes through,
    // and the route that reads latchkey's session is refused instead.
    if (order === "express-session first") {
      expect([login.status, login.body.name]).toEqual([500, "TypeError"]);
      expect(login.body.message).toMatch(/^latchkey: req\.session is already set by another middleware \(express-session or passport\?\).*sessionProperty: "latchkey"/);
      return;
    }
    const access = setCookies(login).get("sAccessToken")?.value ?? "";
    const me = await request(application).get("/new").set("Cookie", accessCookie(access)).timeout(3000);
    expect([me.status, me.body.name]).toEqual([500, "TypeError"]);
    expect(me.body.message).toMatch(/^latchkey: req\.session is already set by another middleware/);
  });
});

describe("mounting", () => {
  it("refuses a middleware mounted under a path that hides its endpoints, with the fix, instead of a silent 404", async () => {
    const lines: string[] = [];
    const application = express();
    application.use("/api", sessionMiddleware({ store: memoryStore(), logger: { warn: (m) => void lines.push(m), error: (m) => void lines.push(m) } }));
    application.get("/api/ping", (_req, res) => res.json({ ok: true }));
    application.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ message: error.message });
    });
    const res = await request(application).get("/api/ping").expect(500);
    expect(res.body.message).toBe(
      'latchkey: sessionMiddleware() is mounted under "/api", so its endpoints under "/auth" are never reached and every refresh would be a 404. ' +
        'Mount it at the application root: app.use(sessions), not app.use("/api", sessions) (or set apiBasePath: "/api/auth").',
    );
    await request(application).post("/api/auth/session/refresh").expect(500);
    expect(lines).toHaveLength(1); // logged once, however many requests
  });

  it("serves its endpoints when mounted under a prefix of apiBasePath", async () => {
    const application = express();
    application.use("/api", sessionMiddleware({ store: memoryStore(), logger: false, apiBasePath: "/api/auth" }));
    const res = await request(application).post("/api/auth/session/refresh").expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    await request(application).get("/api/auth/jwt/jwks.json").expect(200);
  });
});
