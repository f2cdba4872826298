// @ts-check
// The latchkey sample app: sign up, log in, a dashboard, your active sessions, an admin
// page guarded by a role claim and a password change that asks for a recent login, with
// the SuperTokens frontend SDK refreshing tokens in the pages. `npm start` builds the
// package and runs this file. It imports latchkey by name, as your app would.
//
// Environment:
//   PORT                   where to listen (default 3000; 0 picks a free port)
//   HOST                   the address to bind (default 127.0.0.1: the app ships a well-known
//                          demo password, so only this machine can reach it; 0.0.0.0 opens it up)
//   LATCHKEY_DATABASE_URL  mysql://user:password@host:3306/db keeps accounts and sessions
//                          in MySQL; unset, both live in this process's memory
//   LATCHKEY_TABLE_PREFIX  prefix of latchkey's tables (default latchkey_), as for `npx latchkey`
//   SAMPLE_USERS_TABLE     the accounts table (default sample_users)
//   ACCESS_TOKEN_TTL       access-token lifetime (default 15m); "5s" shows refreshes happening
//   FRESH_SECONDS          how recent a login must be to change the password (default 300)
const path = require("node:path");
const express = require("express");
const mysql = require("mysql2/promise");
const { errorHandler, mysqlStore, sessionMiddleware } = require("latchkey");
const { apiRouter } = require("./api");
const { describeAddress, readConfig } = require("./config");
const { rolesClaim } = require("./roles");
const { sdkRouter } = require("./sdk");
const { memoryUserTable, mysqlUserTable } = require("./user-tables");
const { DEMO, Users } = require("./users");

async function main() {
  const config = readConfig(process.env);
  const { databaseUrl } = config;
  // One pool serves the accounts table and latchkey's sessions.
  const pool = databaseUrl ? mysql.createPool({ uri: databaseUrl, connectionLimit: 10 }) : undefined;
  const users = new Users(pool ? mysqlUserTable(pool, config.usersTable) : memoryUserTable());
  const roles = rolesClaim(users);
  const sessions = sessionMiddleware({
    // Without a pool latchkey picks its embedded memory store (and refuses to in production).
    store: pool && mysqlStore(pool, { tablePrefix: config.tablePrefix }),
    accessTokenTtl: config.accessTokenTtlSeconds,
    // Fetched into every new session's token; refetched when invalidateClaim says it changed.
    claims: [roles],
  });
  await users.init();

  const app = express();
  app.disable("x-powered-by");
  app.use(express.json({ limit: "10kb" }));
  app.use(sessions);
  app.use("/sdk", sdkRouter());
  app.use(
    "/api",
    apiRouter({ users, sessions, roles, accessTokenTtlSeconds: config.accessTokenTtlSeconds, freshSeconds: config.freshSeconds }),
  );
  app.use(express.static(path.join(__dirname, "public"), { extensions: ["html"] }));
  app.use(errorHandler());
  app.use(lastResort);

  const server = app.listen(config.port, config.host, () => {
    const address = server.address();
    if (!address || typeof address !== "object") return;
    const where = describeAddress(address);
    const storage = databaseUrl ? `MySQL at ${redact(databaseUrl)}` : "in memory (set LATCHKEY_DATABASE_URL=mysql://… to keep them)";
    const reach = where.local
      ? "  only this machine can reach it (set HOST=0.0.0.0 to open it to your network)"
      : `  listening on ${where.wildcard ? "every address" : address.address} (HOST=${config.host}): other machines can reach it, and log in as ${DEMO.name}`;
    console.log(
      [
        `latchkey sample app on ${where.url}`,
        reach,
        `  accounts and sessions: ${storage}`,
        `  log in as ${DEMO.name} / ${DEMO.password}, or sign up`,
      ].join("\n"),
    );
  });
  server.on("error", (error) => fail(`cannot listen on ${config.host} port ${config.port}`, error));
  const stop = async () => {
    server.close();
    server.closeAllConnections();
    await sessions.close();
    await pool?.end();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

/**
 * Answers what no other handler did as JSON. Client errors (malformed JSON, say) are not
 * logged: body-parser keeps the raw body on them, and it may hold a password.
 * @type {express.ErrorRequestHandler}
 */
function lastResort(error, _req, res, next) {
  if (res.headersSent) return next(error);
  const status = Number(error?.status ?? error?.statusCode);
  if (status >= 400 && status < 500) {
    res.status(status).json({ message: "Bad request." });
    return;
  }
  console.error("sample app: a request failed:", error instanceof Error ? error.message : error);
  res.status(500).json({ message: "Something went wrong. Try again in a moment." });
}

/** @param {string} url */
function redact(url) {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(an unparsable URL)";
  }
}

/** @param {string} what @param {unknown} error */
function fail(what, error) {
  console.error(`sample app: ${what}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

main().catch((error) => fail("could not start", error));
