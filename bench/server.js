// One server under test, in its own process (forked by bench/run.js). BENCH_KIND picks
// the contender. Every contender answers GET /me with {"userId": ...} and
// POST /login {"userId"} with a new session; when it listens it prints its port and
// sends {"port"} to the parent over IPC.
//
// Run one by hand:  BENCH_KIND=latchkey node bench/server.js
const crypto = require("node:crypto");
const express = require("express");

const KIND = process.env.BENCH_KIND;
const DATABASE_URL = process.env.BENCH_DATABASE_URL || "mysql://root@127.0.0.1:3306/test";
const PREFIX = process.env.BENCH_PREFIX || "bench_";
const DEFAULT_USER = "bench-user";

const app = express();
app.use(express.json());

const userIdOf = (req) => String(req.body?.userId ?? DEFAULT_USER);

const contenders = {
  // The ceiling: the same route with no authentication at all.
  bare() {
    app.get("/me", (_req, res) => res.json({ userId: DEFAULT_USER }));
  },

  // latchkey with its defaults (ES256, MySQL store); only the table prefix is ours.
  latchkey() {
    // BENCH_LATCHKEY_DIR: another build of latchkey (the A/B baseline, see run.js).
    const { sessionMiddleware, verifySession, mysqlStore, errorHandler } = require(process.env.BENCH_LATCHKEY_DIR || "..");
    const options = { store: mysqlStore(DATABASE_URL, { tablePrefix: PREFIX }), logger: false };
    if (process.env.BENCH_ALGORITHM) options.algorithm = process.env.BENCH_ALGORITHM;
    app.use(sessionMiddleware(options));
    app.post("/login", async (req, res, next) => {
      try {
        await res.createSession(userIdOf(req));
        res.json({ userId: req.session.userId });
      } catch (error) {
        next(error);
      }
    });
    app.get("/me", verifySession(), (req, res) => res.json({ userId: req.session.userId }));
    app.get("/me-db", verifySession({ checkDatabase: true }), (req, res) => res.json({ userId: req.session.userId }));
    app.use(errorHandler());
  },

  // express-session + express-mysql-session with their defaults, on the same MariaDB.
  // The login is the cheapest one express-session allows: set a field, and the session
  // is saved (one INSERT ... ON DUPLICATE KEY UPDATE) before the response ends.
  "express-session"() {
    const session = require("express-session");
    const MySQLStore = require("express-mysql-session")(session);
    const url = new URL(DATABASE_URL);
    const store = new MySQLStore({
      host: url.hostname,
      port: Number(url.port || 3306),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.slice(1),
      schema: { tableName: `${PREFIX}express_sessions` },
    });
    app.use(
      session({
        secret: crypto.randomBytes(32).toString("hex"),
        store,
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: "lax" },
      }),
    );
    app.post("/login", (req, res) => {
      req.session.userId = userIdOf(req);
      res.json({ userId: req.session.userId });
    });
    app.get("/me", (req, res) => {
      if (typeof req.session.userId !== "string") return res.status(401).json({ message: "unauthorised" });
      res.json({ userId: req.session.userId });
    });
    // The store creates its table asynchronously: listen only once it exists.
    return store.onReady();
  },

  // What a careful team writes by hand: cookie-parser and jsonwebtoken, RS256 with a
  // KeyObject, algorithm pinned, signature checked on every request.
  "diy-jwt"() {
    const cookieParser = require("cookie-parser");
    const jwt = require("jsonwebtoken");
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    app.use(cookieParser());
    app.post("/login", (req, res) => {
      const token = jwt.sign({ sub: userIdOf(req) }, privateKey, { algorithm: "RS256", expiresIn: "15m" });
      res.cookie("token", token, { httpOnly: true, sameSite: "lax" }).json({ userId: userIdOf(req) });
    });
    app.get("/me", (req, res) => {
      let claims;
      try {
        claims = jwt.verify(req.cookies.token, publicKey, { algorithms: ["RS256"] });
      } catch {
        return res.status(401).json({ message: "unauthorised" });
      }
      res.json({ userId: claims.sub });
    });
  },
};

if (!Object.hasOwn(contenders, KIND)) {
  console.error(`bench/server.js: BENCH_KIND must be one of ${Object.keys(contenders).join(", ")} (got ${KIND})`);
  process.exit(2);
}
const ready = contenders[KIND]();

// Internal endpoints, outside the measured routes. CPU time used so far (µs), so the
// runner can report server CPU per request, a figure that survives a busy machine.
app.get("/bench/cpu", (_req, res) => res.json(process.cpuUsage()));
// For the memory step: collect garbage (needs --expose-gc), then report.
if (typeof global.gc === "function") {
  app.get("/bench/memory", (_req, res) => {
    for (let i = 0; i < 3; i++) global.gc();
    res.json(process.memoryUsage());
  });
}

Promise.resolve(ready).then(() => {
  const server = app.listen(0, "127.0.0.1", () => {
    const { port } = server.address();
    console.log(`${KIND} listening on http://127.0.0.1:${port}`);
    process.send?.({ port });
  });
});
// The runner's death (IPC channel closed) ends us too: no orphaned servers. Exiting
// through process.exit also lets --cpu-prof write its profile.
for (const signal of ["disconnect", "SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
