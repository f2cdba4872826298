// Makes sure a MySQL-protocol database is reachable for the whole run, so that the
// MySQL half of the suite never skips silently. Order of preference:
//   1. LATCHKEY_TEST_DATABASE_URL (default mysql://root@127.0.0.1:3306/test);
//   2. a throwaway MariaDB in a temporary directory, when mariadbd/mysqld is installed;
//   3. otherwise fail, saying how to provide one.
const { spawn, execFileSync } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const mysql = require("mysql2/promise");

const DEFAULT_URL = "mysql://root@127.0.0.1:3306/test";

module.exports = async function globalSetup() {
  const url = process.env.LATCHKEY_TEST_DATABASE_URL || DEFAULT_URL;
  if (await reachable(url)) {
    process.env.LATCHKEY_TEST_DATABASE_URL = url;
    return;
  }
  const server = findServer();
  if (!server) {
    throw new Error(
      `latchkey tests need MySQL or MariaDB: ${redact(url)} is unreachable and no mariadbd/mysqld is installed.\n` +
        "Start one (e.g. apt-get install -y mariadb-server && service mariadb start) or set LATCHKEY_TEST_DATABASE_URL.",
    );
  }
  const throwaway = await startThrowaway(server);
  process.env.LATCHKEY_TEST_DATABASE_URL = throwaway.url;
  globalThis.__LATCHKEY_THROWAWAY__ = throwaway;
  console.log(`\nlatchkey: ${redact(url)} unreachable; started a throwaway MariaDB at ${throwaway.url}`);
};

async function reachable(url) {
  let connection;
  try {
    connection = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
    await connection.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await connection?.end().catch(() => {});
  }
}

function findServer() {
  for (const candidate of ["/usr/sbin/mariadbd", "/usr/sbin/mysqld", "/usr/bin/mariadbd", "/usr/bin/mysqld"]) {
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function startThrowaway(server) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "latchkey-mariadb-"));
  const datadir = path.join(dir, "data");
  const socket = path.join(dir, "mysqld.sock");
  const port = await freePort();
  const user = os.userInfo().username;
  execFileSync("mariadb-install-db", [
    "--no-defaults",
    `--datadir=${datadir}`,
    `--user=${user}`,
    "--auth-root-authentication-method=normal",
    "--skip-test-db",
  ], { stdio: "ignore" });
  const child = spawn(server, [
    "--no-defaults",
    `--datadir=${datadir}`,
    `--socket=${socket}`,
    `--port=${port}`,
    "--bind-address=127.0.0.1",
    `--user=${user}`,
    "--skip-log-bin",
  ], { stdio: "ignore", detached: true });
  child.unref();
  const base = `mysql://root@127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    if (await reachable(`${base}/mysql`)) {
      const connection = await mysql.createConnection({ uri: `${base}/mysql` });
      await connection.query("CREATE DATABASE IF NOT EXISTS test");
      await connection.end();
      return { url: `${base}/test`, pid: child.pid, dir };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("latchkey tests: the throwaway MariaDB did not start within 20 s");
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

function redact(url) {
  return url.replace(/^(mysql:\/\/[^:/@]*:)[^@]*@/, "$1***@");
}
