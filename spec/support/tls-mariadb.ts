import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { freePorts } from "./ports";

/** A throwaway MariaDB that only accepts TLS, started by {@link startTlsMariaDb}. */
export interface TlsMariaDb {
  /** `mysql://tls_user:PASSWORD@127.0.0.1:PORT/test`, without any TLS parameter. */
  url: string;
  /**
   * The same server as a user without `REQUIRE SSL`, so that a refused plaintext
   * connection proves `require_secure_transport` (MariaDB reports both as error 1045).
   */
  plainUrl: string;
  /** The server's TCP port. It also listens on 127.0.0.2, an address its certificate does not name. */
  port: number;
  /** Path of the PEM file of the CA that signed the server's certificate. */
  caPath: string;
  /** The same CA certificate, as PEM text. */
  caPem: string;
  /** Stops the server and removes its directory (data, certificates, keys). Idempotent. */
  stop(): Promise<void>;
}

const SERVER = "/usr/sbin/mariadbd";
const USER = "tls_user";
const PLAIN_USER = "plain_user";
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;

// Durability and the default 96 MB redo log cost seconds of disk writes at install and
// start; a throwaway server needs neither.
const SMALL_AND_UNSAFE = [
  "--innodb-log-file-size=4M",
  "--innodb-buffer-pool-size=16M",
  "--innodb-flush-log-at-trx-commit=0",
  "--innodb-doublewrite=0",
  "--skip-log-bin",
  // No DNS lookups of clients (there is nothing to resolve but 127.0.0.1).
  "--skip-name-resolve",
];

// Where Debian's and MariaDB's own packages put the SQL that mariadb-install-db runs.
const SQL_DIRS = ["/usr/share/mysql", "/usr/share/mariadb"];
const BOOTSTRAP_SQL = ["mysql_system_tables.sql", "mysql_performance_tables.sql", "mysql_system_tables_data.sql"];

const run = promisify(execFile);

/**
 * Starts a MariaDB in a temporary directory that refuses every TCP connection without
 * TLS (`--require-secure-transport=ON`). Its certificate, for `127.0.0.1` and `localhost`,
 * is signed by a CA made for this run, so Node does not trust it unless given `caPath`.
 * User `tls_user` (`REQUIRE SSL`) owns database `test`, and so does `plain_user` (no
 * `REQUIRE SSL`). Runs as root too, as CI does.
 *
 * @example
 * ```ts
 * let db: TlsMariaDb;
 * beforeAll(async () => { db = await startTlsMariaDb(); });
 * afterAll(() => db.stop());
 * ```
 */
export async function startTlsMariaDb(): Promise<TlsMariaDb> {
  if (!fs.existsSync(SERVER)) throw new Error(`startTlsMariaDb needs MariaDB's server at ${SERVER}.`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "latchkey-tls-mariadb-"));
  let child: ChildProcess | undefined;
  const killNow = () => {
    child?.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // A worker that exits without stop() (a crash, an interrupted run) must not leave a server behind.
  process.once("exit", killNow);
  try {
    const [ports] = await Promise.all([freePorts(1), initDataDir(dir), makeCertificates(dir)]);
    const port = ports[0] as number;
    const server = await startServer(dir, port);
    child = server.child;
    const password = randomBytes(12).toString("hex");
    await createUser(path.join(dir, "mysqld.sock"), password);
    const caPath = path.join(dir, "ca.pem");
    return {
      url: `mysql://${USER}:${password}@127.0.0.1:${port}/test`,
      plainUrl: `mysql://${PLAIN_USER}:${password}@127.0.0.1:${port}/test`,
      port,
      caPath,
      caPem: fs.readFileSync(caPath, "utf8"),
      stop: once(async () => {
        process.removeListener("exit", killNow);
        await stopServer(server.child, server.exited);
        fs.rmSync(dir, { recursive: true, force: true });
      }),
    };
  } catch (error) {
    process.removeListener("exit", killNow);
    killNow();
    throw error;
  }
}

/**
 * Creates the system tables. mariadbd --bootstrap with only the SQL that a server needs
 * takes ~0.3 s; mariadb-install-db also loads 2.5 MB of help tables and the sys schema
 * (0.7 to 1.6 s on a busy 2-core machine), so it is only the fallback.
 */
export async function initDataDir(dir: string): Promise<void> {
  const datadir = path.join(dir, "data");
  const sqlDir = SQL_DIRS.find((candidate) => BOOTSTRAP_SQL.every((file) => fs.existsSync(path.join(candidate, file))));
  if (sqlDir === undefined) {
    await run(
      "mariadb-install-db",
      ["--no-defaults", `--datadir=${datadir}`, `--user=${os.userInfo().username}`,
        "--auth-root-authentication-method=normal", "--skip-test-db", ...SMALL_AND_UNSAFE],
      { timeout: START_TIMEOUT_MS },
    );
    return;
  }
  fs.mkdirSync(datadir);
  // What mariadb-install-db --auth-root-authentication-method=normal --skip-name-resolve
  // feeds the server: root without a password (reachable here over the socket only).
  const sql = [
    "CREATE DATABASE IF NOT EXISTS mysql;",
    "USE mysql;",
    "SET @auth_root_socket=NULL;",
    ...BOOTSTRAP_SQL.map((file) => fs.readFileSync(path.join(sqlDir, file), "utf8")),
  ]
    .join("\n")
    .split("\n")
    .filter((line) => !line.includes("@current_hostname"))
    .join("\n");
  await runWithInput(
    SERVER,
    // Its own tmpdir: bootstraps of specs running side by side must not share /tmp's temporary tables.
    ["--no-defaults", "--bootstrap", `--datadir=${datadir}`, `--tmpdir=${dir}`, `--user=${os.userInfo().username}`,
      "--log-warnings=0", "--enforce-storage-engine=", ...SMALL_AND_UNSAFE],
    sql,
  );
}

/** A CA, and a server certificate it signs for 127.0.0.1 and localhost. EC keys: RSA keygen is slower. */
async function makeCertificates(dir: string): Promise<void> {
  const file = (name: string) => path.join(dir, name);
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"];
  await run("openssl", [
    "req", "-x509", ...newKey, "-keyout", file("ca-key.pem"), "-out", file("ca.pem"),
    "-subj", "/CN=latchkey throwaway test CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await run("openssl", [
    "req", "-x509", ...newKey, "-keyout", file("server-key.pem"), "-out", file("server-cert.pem"),
    "-CA", file("ca.pem"), "-CAkey", file("ca-key.pem"),
    "-subj", "/CN=localhost",
    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    "-addext", "basicConstraints=critical,CA:FALSE",
    "-addext", "extendedKeyUsage=serverAuth",
  ]);
}

export interface Started {
  child: ChildProcess;
  exited: Promise<void>;
}

function startServer(dir: string, port: number): Promise<Started> {
  return spawnMariaDb(dir, port, [
    // 127.0.0.2 is the same machine under an address the certificate does not name,
    // for host name verification failures.
    "--bind-address=127.0.0.1,127.0.0.2",
    `--ssl-ca=${path.join(dir, "ca.pem")}`,
    `--ssl-cert=${path.join(dir, "server-cert.pem")}`,
    `--ssl-key=${path.join(dir, "server-key.pem")}`,
    "--require-secure-transport=ON",
  ]);
}

/**
 * Spawns mariadbd on the datadir {@link initDataDir} made in `dir` (socket `dir/mysqld.sock`),
 * with `args` added, and resolves once it logs that it accepts connections.
 */
export function spawnMariaDb(dir: string, port: number, args: string[]): Promise<Started> {
  const child = spawn(
    SERVER,
    [
      "--no-defaults",
      `--datadir=${path.join(dir, "data")}`,
      `--socket=${path.join(dir, "mysqld.sock")}`,
      `--pid-file=${path.join(dir, "mysqld.pid")}`,
      `--tmpdir=${dir}`,
      `--port=${port}`,
      `--user=${os.userInfo().username}`,
      ...args,
      ...SMALL_AND_UNSAFE,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let log = "";
  return new Promise<Started>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`startTlsMariaDb: mariadbd ${why}. Its log ends with:\n${log.slice(-3000)}`));
    };
    const timer = setTimeout(() => fail(`did not start within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) => fail(`exited during start (${signal ?? `code ${code}`})`);
    child.once("exit", onExit);
    child.once("error", (error) => fail(`could not be spawned (${error.message})`));
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      // Keep reading after start, or a full pipe would block the server; keep only a tail.
      log = (log + chunk).slice(-20_000);
      if (log.includes("ready for connections")) {
        clearTimeout(timer);
        child.removeListener("exit", onExit);
        resolve({ child, exited });
      }
    });
  });
}

/** Over the Unix socket, which require_secure_transport counts as secure (and root has no password). */
async function createUser(socketPath: string, password: string): Promise<void> {
  const root = await mysql.createConnection({ socketPath, user: "root" });
  try {
    await root.query("CREATE DATABASE test");
    await root.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY ? REQUIRE SSL`, [password]);
    await root.query(`CREATE USER '${PLAIN_USER}'@'%' IDENTIFIED BY ?`, [password]);
    await root.query(`GRANT ALL ON test.* TO '${USER}'@'%', '${PLAIN_USER}'@'%'`);
  } finally {
    await root.end();
  }
}

export async function stopServer(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function runWithInput(command: string, args: string[], input: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "ignore", "pipe"] });
    const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
    let log = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (log = (log + chunk).slice(-3000)));
    child.stdin.on("error", () => {}); // a server that died early: reported on close
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`startTlsMariaDb: ${command} --bootstrap failed (${signal ?? `code ${code}`}):\n${log}`));
    });
    child.stdin.end(input);
  });
}

function once(work: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= work());
}
