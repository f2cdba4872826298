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

  // express-session's secure login: req.session.regenerate() first (its defence against
  // session fixation: the old session is destroyed, one DELETE, and a new id issued), then
  // the field is set and the session saved (one INSERT ... ON DUPLICATE KEY UPDATE).
  "express-session-regenerate"() {
    const ready = contenders["express-session"]();
    app.post("/login-regenerate", (req, res, next) => {
      req.session.regenerate((error) => {
        if (error) return next(error);
        req.session.userId = userIdOf(req);
        res.json({ userId: req.session.userId });
      });
    });
    return ready;
  },

  // "The limit": the least a middleware can do for latchkey's verified GET, written by hand
  // with node:crypto: read the access cookie, look the token up in a bounded Map of tokens
  // already verified, else check the ES256 signature and decode the claims, check exp, set
  // the user. No CSRF check, no duplicate-cookie check, no revocation list, no claims:
  // latchkey's verified GET at 1.0x this would be all of its features for free.
  limit() {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
    const NAME = "access=";
    const verified = new Map();
    const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const header = b64({ alg: "ES256", typ: "JWT", kid: "limit-key" });
    app.post("/login", (req, res) => {
      const now = Math.floor(Date.now() / 1000);
      // Claims of the size latchkey's carry, so both GETs receive a cookie header alike.
      const body = `${header}.${b64({ sub: userIdOf(req), sid: crypto.randomUUID(), iat: now, exp: now + 3600, iss: "http://127.0.0.1", sessionHandle: crypto.randomUUID(), refreshTokenHash1: crypto.randomBytes(32).toString("hex"), parentRefreshTokenHash1: null, antiCsrfToken: null })}`;
      const signature = crypto.sign("sha256", Buffer.from(body), { key: privateKey, dsaEncoding: "ieee-p1363" });
      res.cookie("access", `${body}.${signature.toString("base64url")}`, { httpOnly: true, sameSite: "lax", secure: true });
      res.json({ userId: userIdOf(req) });
    });
    app.use((req, res, next) => {
      const cookie = req.headers.cookie ?? "";
      const start = cookie.indexOf(NAME);
      const end = start === -1 ? -1 : cookie.indexOf(";", start);
      const token = start === -1 ? "" : cookie.slice(start + NAME.length, end === -1 ? undefined : end);
      let claims = verified.get(token);
      if (claims === undefined) {
        const dot = token.lastIndexOf(".");
        const ok = dot > 0 && crypto.verify("sha256", Buffer.from(token.slice(0, dot)), { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(token.slice(dot + 1), "base64url"));
        try {
          claims = ok ? JSON.parse(Buffer.from(token.slice(token.indexOf(".") + 1, dot), "base64url").toString()) : undefined;
        } catch {
          claims = undefined;
        }
        if (claims === undefined) return next();
        if (verified.size >= 10_000) verified.delete(verified.keys().next().value);
        verified.set(token, claims);
      }
      if (claims.exp * 1000 > Date.now()) req.user = claims.sub;
      next();
    });
    app.get("/me", (req, res) => {
      if (req.user === undefined) return res.status(401).json({ message: "unauthorised" });
      res.json({ userId: req.user });
    });
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
