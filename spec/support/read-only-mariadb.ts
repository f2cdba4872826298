import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import mysql from "mysql2/promise";
import { freePorts } from "./ports";
import { initDataDir, spawnMariaDb, stopServer } from "./tls-mariadb";

/** A throwaway MariaDB started `--read-only`, like a replica, by {@link startReadOnlyMariaDb}. */
export interface ReadOnlyMariaDb {
  /** `mysql://app:PASSWORD@127.0.0.1:PORT/test`: SELECT, INSERT, UPDATE and DELETE on `test` only. */
  appUrl: string;
  /** Root over the Unix socket (database `test`, multiple statements): every privilege, READ ONLY ADMIN included, so read_only does not stop it. */
  root(): Promise<mysql.Connection>;
  /** The Unix socket, for pools of root. */
  socketPath: string;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a MariaDB in a temporary directory with `--read-only`, as a replica runs: the
 * app user (DML only) is refused writes, root is not. `SET GLOBAL read_only` on the shared
 * test database would break every spec running beside this one; this server is its own.
 *
 * @example
 * ```ts
 * let db: ReadOnlyMariaDb;
 * beforeAll(async () => { db = await startReadOnlyMariaDb(); });
 * afterAll(() => db.stop());
 * ```
 */
export async function startReadOnlyMariaDb(): Promise<ReadOnlyMariaDb> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "latchkey-read-only-mariadb-"));
  const socketPath = path.join(dir, "mysqld.sock");
  const removeDir = () => fs.rmSync(dir, { recursive: true, force: true });
  let kill = removeDir;
  // A worker that exits without stop() must not leave a server behind.
  const onExit = () => kill();
  process.once("exit", onExit);
  try {
    const [ports] = await Promise.all([freePorts(1), initDataDir(dir)]);
    const port = ports[0] as number;
    const server = await spawnMariaDb(dir, port, ["--bind-address=127.0.0.1", "--read-only"]);
    kill = () => {
      server.child.kill("SIGKILL");
      removeDir();
    };
    const password = randomBytes(12).toString("hex");
    const root = () => mysql.createConnection({ socketPath, user: "root", database: "test", multipleStatements: true });
    const setup = await mysql.createConnection({ socketPath, user: "root" });
    try {
      await setup.query("CREATE DATABASE test");
      await setup.query("CREATE USER 'app'@'%' IDENTIFIED BY ?", [password]);
      await setup.query("GRANT SELECT, INSERT, UPDATE, DELETE ON test.* TO 'app'@'%'");
    } finally {
      await setup.end();
    }
    let stopped: Promise<void> | undefined;
    return {
      appUrl: `mysql://app:${password}@127.0.0.1:${port}/test`,
      root,
      socketPath,
      stop: () =>
        (stopped ??= (async () => {
          process.removeListener("exit", onExit);
          await stopServer(server.child, server.exited);
          removeDir();
        })()),
    };
  } catch (error) {
    process.removeListener("exit", onExit);
    kill();
    throw error;
  }
}
