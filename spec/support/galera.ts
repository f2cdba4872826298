import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import mysql, { type RowDataPacket } from "mysql2/promise";
import { freePorts } from "./ports";

/**
 * A real MariaDB Galera cluster for specs: N mariadbd processes on loopback, each with a
 * datadir of its own under one temporary directory. Node 1 bootstraps the cluster, the
 * others join it through an rsync state snapshot transfer (SST), exactly as a production
 * node joins.
 *
 * Usage (always stop in afterAll, so a failing spec leaves no server behind):
 *
 *   let cluster: GaleraCluster;
 *   beforeAll(async () => { cluster = await startGaleraCluster(); }, 120_000);
 *   afterAll(() => cluster?.stop());
 *
 * Start one cluster per spec file and share it between that file's tests: a start costs
 * 7-10 s and three servers on a 2-core machine. Nodes listen on 127.0.0.1 only, so use the
 * given urls (not "localhost", which may resolve to ::1).
 */
export interface GaleraNode {
  /** 1-based; node 1 bootstrapped the cluster. */
  index: number;
  port: number;
  /** mysql://root@127.0.0.1:PORT/test (root has no password). */
  url: string;
}

export interface GaleraCluster {
  nodes: GaleraNode[];
  /** Kills every node (SIGTERM, then SIGKILL) and removes the temporary directory. Idempotent. */
  stop(): Promise<void>;
}

export interface GaleraOptions {
  /** Cluster size; 3 unless told. */
  nodes?: number;
  /** How long the whole start may take before it fails with the nodes' logs. */
  timeoutMs?: number;
}

const PROVIDER = "/usr/lib/galera/libgalera_smm.so";
const DEFAULT_NODES = 3;
const DEFAULT_TIMEOUT_MS = 60_000;
/** How long all nodes together get to shut down on SIGTERM before SIGKILL: the data is thrown away. */
const STOP_GRACE_MS = 5_000;
const POLL_MS = 150;
const LOG_TAIL_LINES = 30;
const INSTALL_HINT = "apt-get install -y mariadb-server galera-4 rsync";
const DIR_PREFIX = "latchkey-galera-";
/** Holds the test process's pid, so a later run can tell an abandoned directory. */
const OWNER_FILE = "owner.pid";

const run = promisify(execFile);

/** undefined when a cluster can be started here; otherwise why not, and how to fix it. */
export function galeraAvailable(): string | undefined {
  const missing: string[] = [];
  if (!findProgram("mariadbd")) missing.push("mariadbd");
  if (!findProgram("mariadb-install-db")) missing.push("mariadb-install-db");
  if (!fs.existsSync(PROVIDER)) missing.push(`the Galera provider ${PROVIDER}`);
  if (!findProgram("rsync")) missing.push("rsync");
  if (!findProgram("wsrep_sst_rsync")) missing.push("wsrep_sst_rsync");
  // wsrep_sst_rsync watches its rsync daemon's port with one of these.
  if (!["ss", "lsof", "sockstat"].some((tool) => findProgram(tool))) missing.push("ss or lsof");
  if (missing.length > 0) return `Galera cluster unavailable: missing ${missing.join(", ")} (${INSTALL_HINT})`;
  if (isRoot() && lookupId("-u", "mysql") === undefined) {
    return "Galera cluster unavailable: running as root but there is no `mysql` user to run the nodes as";
  }
  return undefined;
}

export async function startGaleraCluster(options: GaleraOptions = {}): Promise<GaleraCluster> {
  const unavailable = galeraAvailable();
  if (unavailable) throw new Error(unavailable);
  const count = options.nodes ?? DEFAULT_NODES;
  if (!Number.isInteger(count) || count < 1) throw new Error(`startGaleraCluster: bad node count ${count}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  removeAbandonedDirs();
  // Ports are picked before the nodes bind them (a joiner only after its state transfer),
  // so another harness may take one meanwhile: that start, and only that, is retried on new ports.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(count, Date.now() + timeoutMs);
    } catch (error) {
      if (attempt >= PORT_ATTEMPTS || !(error instanceof PortTaken)) throw error;
    }
  }
}

const PORT_ATTEMPTS = 3;

class PortTaken extends Error {}

async function startOnce(count: number, deadline: number): Promise<GaleraCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), DIR_PREFIX));
  fs.writeFileSync(path.join(dir, OWNER_FILE), String(process.pid));
  const specs = planNodes(dir, count, await freePorts(count * 4));
  const user = runAs();
  const running = new Running(dir, user);
  try {
    await prepareDatadirs(specs, user);
    await bootstrap(running, specs, deadline);
    return { nodes: specs.map(publicNode), stop: () => running.stop() };
  } catch (error) {
    const states = (await Promise.all(specs.map(describeState))).join("\n");
    const logs = specs.map(logTail).join("\n");
    await running.stop();
    const message = `Galera cluster failed to start: ${(error as Error).message}\n${states}\n${logs}`;
    throw /Address already in use|error: 98\b/.test(logs) ? new PortTaken(message) : new Error(message);
  }
}

/**
 * A test process killed outright (SIGKILL, OOM) takes its servers with it (see
 * launchServer) but leaves their files, about 160 MB a cluster: remove those of dead owners.
 */
function removeAbandonedDirs(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = path.join(os.tmpdir(), name);
    let owner: number;
    try {
      owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), "utf8"));
    } catch {
      continue; // Not ours, or a run that is just starting.
    }
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another user's; not ours to remove.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// ---------------------------------------------------------------------------------------
// Planning: ports, paths and command lines.

interface NodeSpec {
  index: number;
  dir: string;
  datadir: string;
  socket: string;
  errorLog: string;
  port: number;
  gmcastPort: number;
  istPort: number;
  sstPort: number;
  clusterName: string;
  clusterAddress: string;
}

function planNodes(dir: string, count: number, ports: number[]): NodeSpec[] {
  const port = (i: number) => ports[i] as number;
  const gmcastPorts = Array.from({ length: count }, (_, i) => port(count + i));
  // A random name, so two clusters that ever got each other's ports still never merge.
  const clusterName = `latchkey-${randomBytes(4).toString("hex")}`;
  const clusterAddress = `gcomm://${gmcastPorts.map((p) => `127.0.0.1:${p}`).join(",")}`;
  return Array.from({ length: count }, (_, i) => {
    const nodeDir = path.join(dir, `node${i + 1}`);
    return {
      index: i + 1,
      dir: nodeDir,
      datadir: path.join(nodeDir, "data"),
      socket: path.join(nodeDir, "mysqld.sock"),
      errorLog: path.join(nodeDir, "error.log"),
      port: port(i),
      gmcastPort: port(count + i),
      istPort: port(2 * count + i),
      sstPort: port(3 * count + i),
      clusterName,
      clusterAddress,
    };
  });
}

function serverArgs(spec: NodeSpec, bootstrapping: boolean): string[] {
  const provider = [
    `gmcast.listen_addr=tcp://127.0.0.1:${spec.gmcastPort}`,
    // base_port too, so nothing falls back to the default 4567 that another cluster may hold.
    `base_port=${spec.gmcastPort}`,
    `ist.recv_addr=127.0.0.1:${spec.istPort}`,
    "gcache.size=16M",
  ].join(";");
  return [
    "--no-defaults",
    `--datadir=${spec.datadir}`,
    `--socket=${spec.socket}`,
    `--pid-file=${path.join(spec.dir, "mysqld.pid")}`,
    `--log-error=${spec.errorLog}`,
    `--tmpdir=${spec.dir}`,
    `--port=${spec.port}`,
    "--bind-address=127.0.0.1",
    // Loopback only: never wait on DNS; root@127.0.0.1 is the account specs use.
    "--skip-name-resolve",
    // Binary logging is not needed by Galera 4 replication; keep it off, explicitly.
    "--skip-log-bin",
    "--wsrep-on=ON",
    `--wsrep_provider=${PROVIDER}`,
    `--wsrep_provider_options=${provider}`,
    `--wsrep_cluster_name=${spec.clusterName}`,
    `--wsrep_cluster_address=${spec.clusterAddress}`,
    `--wsrep_node_name=node${spec.index}`,
    `--wsrep_node_address=127.0.0.1:${spec.gmcastPort}`,
    `--wsrep_node_incoming_address=127.0.0.1:${spec.port}`,
    "--wsrep_sst_method=rsync",
    `--wsrep_sst_receive_address=127.0.0.1:${spec.sstPort}`,
    "--binlog_format=ROW",
    "--default_storage_engine=InnoDB",
    "--innodb_autoinc_lock_mode=2",
    // Three servers on a small machine: small buffers, and a small redo log, which rsync
    // SST copies to every joiner.
    "--innodb_buffer_pool_size=32M",
    "--innodb_log_file_size=8M",
    // Throwaway data: no fsync per commit.
    "--innodb_flush_log_at_trx_commit=2",
    ...(bootstrapping ? ["--wsrep-new-cluster"] : []),
  ];
}

function publicNode(spec: NodeSpec): GaleraNode {
  return { index: spec.index, port: spec.port, url: `mysql://root@127.0.0.1:${spec.port}/test` };
}


// ---------------------------------------------------------------------------------------
// Who the nodes run as, and their datadirs.

interface RunAs {
  user: string;
  /** Set only when the nodes must run as another user than this process. */
  uid?: number;
  gid?: number;
}

/**
 * rsync SST fails when mariadbd runs as root: the joiner's rsync daemon, started as root
 * with no `uid` in its module, writes as `nobody` into a root-owned datadir (rsync exits
 * 23). So as root the nodes run as `mysql`; otherwise as whoever runs the tests.
 */
function runAs(): RunAs {
  if (!isRoot()) return { user: os.userInfo().username };
  return { user: "mysql", uid: lookupId("-u", "mysql"), gid: lookupId("-g", "mysql") };
}

/**
 * Node 1 gets a fresh system datadir. The joiners get an empty one: rsync SST replaces a
 * joiner's datadir with the donor's whole, so installing one there would only cost time.
 */
async function prepareDatadirs(specs: NodeSpec[], user: RunAs): Promise<void> {
  for (const spec of specs) fs.mkdirSync(spec.datadir, { recursive: true });
  const first = specs[0] as NodeSpec;
  // Before installing: mariadb-install-db bootstraps as that user, into these directories.
  if (user.uid !== undefined && user.gid !== undefined) chownTree(path.dirname(first.dir), user.uid, user.gid);
  const installer = findProgram("mariadb-install-db") as string;
  try {
    await run(installer, [
      "--no-defaults",
      `--datadir=${first.datadir}`,
      `--user=${user.user}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      "--innodb_log_file_size=8M",
    ]);
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`mariadb-install-db failed:\n${stdout}${stderr}`);
  }
}

function chownTree(target: string, uid: number, gid: number): void {
  fs.chownSync(target, uid, gid);
  if (!fs.statSync(target).isDirectory()) return;
  for (const entry of fs.readdirSync(target)) chownTree(path.join(target, entry), uid, gid);
}

// ---------------------------------------------------------------------------------------
// Starting and watching the servers.

interface NodeProcess {
  spec: NodeSpec;
  child: ChildProcess;
  exited: Promise<void>;
  exitCode?: number | string | null;
}

/** The cluster's processes, and making sure none outlives the spec. */
class Running {
  readonly processes: NodeProcess[] = [];
  #stopped: Promise<void> | undefined;
  // Last resort when a spec never calls stop(): kill synchronously as the process exits.
  readonly #onExit = () => {
    for (const node of this.processes) killGroup(node.child, "SIGKILL");
    fs.rmSync(this.dir, { recursive: true, force: true });
  };

  constructor(
    readonly dir: string,
    readonly user: RunAs,
  ) {
    process.on("exit", this.#onExit);
  }

  launch(spec: NodeSpec, bootstrapping: boolean): NodeProcess {
    const child = launchServer(serverArgs(spec, bootstrapping), this.user);
    const node: NodeProcess = { spec, child, exited: Promise.resolve() };
    node.exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        node.exitCode = code ?? signal;
        resolve();
      });
      child.once("error", (error) => {
        node.exitCode = error.message;
        resolve();
      });
    });
    this.processes.push(node);
    return node;
  }

  /** Fails fast when a node died, rather than waiting for the timeout. */
  assertAlive(): void {
    const dead = this.processes.find((node) => node.exitCode !== undefined);
    if (dead) throw new Error(`node${dead.spec.index} exited (${String(dead.exitCode)})`);
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  /**
   * One node at a time: a node that leaves alone is gone in a fraction of a second, while
   * nodes that leave together each wait evs.suspect_timeout (5 s) for the others.
   */
  async #stop(): Promise<void> {
    const deadline = Date.now() + STOP_GRACE_MS;
    for (const node of [...this.processes].reverse()) {
      if (node.exitCode !== undefined) continue;
      killGroup(node.child, "SIGTERM");
      await within(Math.max(0, deadline - Date.now()), node.exited);
    }
    // Always, even after a clean exit: an SST script or rsync daemon may be left in the group.
    for (const node of this.processes) killGroup(node.child, "SIGKILL");
    await within(2_000, Promise.all(this.processes.map((node) => node.exited)));
    process.removeListener("exit", this.#onExit);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Each server leads a process group of its own, so stop() also reaches the SST scripts and
 * rsync daemons it forks. `setpriv --pdeathsig KILL` makes the kernel kill the server if
 * the test process dies without running any handler (SIGKILL, OOM). The uid is switched by
 * spawn itself, before setpriv, because a later uid change would clear the death signal.
 */
function launchServer(args: string[], user: RunAs): ChildProcess {
  const server = findProgram("mariadbd") as string;
  const setpriv = findProgram("setpriv");
  const [command, argv] = setpriv ? [setpriv, ["--pdeathsig", "KILL", "--", server, ...args]] : [server, args];
  const child = spawn(command, argv, {
    detached: true,
    stdio: "ignore",
    uid: user.uid,
    gid: user.gid,
    // mariadbd finds wsrep_sst_rsync and its helpers through PATH.
    env: { ...process.env, PATH: searchPath().join(path.delimiter) },
  });
  // A forgotten stop() must not keep the test process alive; the exit handler kills it.
  child.unref();
  return child;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Node 1 bootstraps; each joiner is started once the previous one is in the primary
 * component and its state transfer has begun. Started all at once, joiners get in each
 * other's way: Galera drops one from the forming view for about 5 s, or a donor request
 * that meets a view change is retried a second later. Waiting for each joiner to be Synced
 * instead would cost its whole SST, about 4 s each.
 */
async function bootstrap(running: Running, specs: NodeSpec[], deadline: number): Promise<void> {
  const [first, ...joiners] = specs as [NodeSpec, ...NodeSpec[]];
  running.launch(first, true);
  await waitFor(running, deadline, "node1 to bootstrap", () => isSynced(first, 1));
  await ensureRootOverTcp(first);
  for (const joiner of joiners) {
    running.launch(joiner, false);
    if (joiner === joiners[joiners.length - 1]) break;
    await waitFor(running, deadline, `node${joiner.index} to begin its state transfer`, () =>
      transferBegun(specs.slice(0, joiner.index)),
    );
  }
  for (const spec of specs) {
    await waitFor(running, deadline, `node${spec.index} to be Synced`, () => isSynced(spec, specs.length));
  }
  await createTestDatabase(specs);
}

/**
 * Whether the last of `members` has joined and is being (or has been) given its snapshot.
 * A joiner takes no connections until its SST is done, so ask the nodes before it.
 */
async function transferBegun(members: NodeSpec[]): Promise<boolean> {
  const statuses = await Promise.all(members.map(wsrepStatus));
  const joined = statuses.some((status) => Number(status?.wsrep_cluster_size) >= members.length);
  const donating = statuses.some((status) => status?.wsrep_local_state_comment?.startsWith("Donor"));
  return joined && (donating || statuses[members.length - 1]?.wsrep_ready === "ON");
}

async function isSynced(spec: NodeSpec, size: number): Promise<boolean> {
  const status = await wsrepStatus(spec);
  return (
    status?.wsrep_ready === "ON" &&
    status.wsrep_local_state_comment === "Synced" &&
    Number(status.wsrep_cluster_size) === size
  );
}

/** The node's wsrep_% status, or undefined while it does not accept connections yet. */
async function wsrepStatus(spec: NodeSpec): Promise<Record<string, string> | undefined> {
  let connection: mysql.Connection | undefined;
  try {
    connection = await connect(spec, "mysql");
    const [rows] = await connection.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'wsrep\\_%'");
    return Object.fromEntries(rows.map((row) => [String(row.Variable_name), String(row.Value)]));
  } catch {
    return undefined;
  } finally {
    await connection?.end().catch(() => {});
  }
}

/**
 * `--auth-root-authentication-method=normal` gives root@localhost, root@127.0.0.1 and
 * root@::1 an empty password; make sure of the one specs use (TCP from 127.0.0.1, no name
 * resolution) through the socket, then prove it over TCP. Done on node 1 alone, so the
 * joiners get it with their snapshot.
 */
async function ensureRootOverTcp(spec: NodeSpec): Promise<void> {
  const local = await mysql.createConnection({ socketPath: spec.socket, user: "root", database: "mysql" });
  try {
    await local.query("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'");
    await local.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
  } finally {
    await local.end();
  }
  const tcp = await connect(spec, "mysql");
  try {
    await tcp.query("SELECT 1");
  } finally {
    await tcp.end();
  }
}

/** Creates `test` on node 1 and waits (causally, via wsrep_sync_wait) until every node has it. */
async function createTestDatabase(specs: NodeSpec[]): Promise<void> {
  const first = await connect(specs[0] as NodeSpec, "mysql");
  try {
    await first.query("CREATE DATABASE IF NOT EXISTS test");
  } finally {
    await first.end();
  }
  for (const spec of specs.slice(1)) {
    const connection = await connect(spec, "mysql");
    try {
      // A SELECT, not SHOW DATABASES: wsrep_sync_wait = 1 covers reads; SHOW has a bit of its own.
      await connection.query("SET SESSION wsrep_sync_wait = 1");
      const [rows] = await connection.query<RowDataPacket[]>(
        "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'test'",
      );
      if (rows.length !== 1) throw new Error(`database test did not replicate to node${spec.index}`);
    } finally {
      await connection.end();
    }
  }
}

function connect(spec: NodeSpec, database: string): Promise<mysql.Connection> {
  return mysql.createConnection({ host: "127.0.0.1", port: spec.port, user: "root", database, connectTimeout: 2_000 });
}

async function waitFor(
  running: Running,
  deadline: number,
  what: string,
  condition: () => Promise<boolean>,
): Promise<void> {
  for (;;) {
    running.assertAlive();
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** A node's state in one line, for the start failure's message. */
async function describeState(spec: NodeSpec): Promise<string> {
  const status = await wsrepStatus(spec);
  if (!status) return `node${spec.index} (port ${spec.port}): not accepting connections`;
  const { wsrep_local_state_comment: state, wsrep_cluster_size: size, wsrep_ready: ready } = status;
  return `node${spec.index} (port ${spec.port}): ${state}, cluster size ${size}, ready ${ready}`;
}

/** The end of a node's error log, for the start failure's message. */
function logTail(spec: NodeSpec): string {
  let text: string;
  try {
    text = fs.readFileSync(spec.errorLog, "utf8");
  } catch {
    text = "(no error log)";
  }
  // Galera prints its whole configuration on one line of several kilobytes: cut long lines.
  const lines = text
    .trimEnd()
    .split("\n")
    .slice(-LOG_TAIL_LINES)
    .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line));
  return `--- node${spec.index} (${spec.errorLog}), last ${lines.length} lines:\n${lines.join("\n")}`;
}

// ---------------------------------------------------------------------------------------
// Small helpers.

function searchPath(): string[] {
  const fromEnv = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  return [...new Set([...fromEnv, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"])];
}

function findProgram(name: string): string | undefined {
  for (const dir of searchPath()) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function lookupId(flag: "-u" | "-g", user: string): number | undefined {
  try {
    return Number(execFileSync("id", [flag, user], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim());
  } catch {
    return undefined;
  }
}

/** Waits for `promise`, or `ms` at most, leaving no timer behind to hold the process open. */
async function within(ms: number, promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
