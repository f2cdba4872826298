import http from "node:http";
import mysql, { type RowDataPacket } from "mysql2/promise";
import type { Response as TestResponse } from "supertest";
import { mysqlStore, type Logger, type SessionMiddlewareOptions } from "../lib";
import { accessCookie, createApp, refreshCookie, request, setCookies, tokensOf, uniquePrefix, type TestApp } from "./helpers";
import { startGaleraCluster, type GaleraCluster } from "./support/galera";

// Issue #11 on a real three-node MariaDB Galera cluster: three app instances, each on its
// own node (its own store, pool and HTTP server), as a deployment behind a load balancer
// has them. Every scenario of the issue must end with 0 errors, 0 forks (every concurrent
// refresh of one token gets the same successor), 0 false sign-outs and 0 false thefts.
//
// Galera row locks are local to a node: two nodes that change one row at once both go
// ahead, and one of them fails certification at COMMIT with 1213. So the conflicts these
// scenarios provoke are real (the "cluster conflicts" column counts them from the nodes'
// wsrep_local_cert_failures + wsrep_local_bf_aborts), and latchkey must absorb them.
//
// Every scenario runs at least the issue's repetitions; the first-use race runs more (see
// there). The file takes about 1.5 minutes on a quiet 2-core machine that also runs the
// three nodes. Each scenario was also run against 0.1.0 on this harness, and failed.
//
// LATCHKEY_REPORT=1 prints the measured figures as a table; LATCHKEY_GALERA_LOG=1 also
// sends latchkey's log lines to the console (they are always recorded, and shown when an
// assertion about them fails).

const REFRESH = "/auth/session/refresh";
const DAY_MS = 24 * 60 * 60 * 1000;
const NODES = [1, 2, 3] as const;
const SCENARIO_TIMEOUT_MS = 180_000;

let cluster: GaleraCluster;
/** One plain connection per node, for status counters and row checks. */
const admin = new Map<number, mysql.Connection>();
const running = new Set<Instance>();
const figures: Figure[] = [];

interface Instance extends TestApp {
  node: number;
  server: http.Server;
  /** latchkey's log lines (warnings and errors, with the driver's codes). */
  logs: string[];
}

interface Figure {
  scenario: string;
  /** What #11 measured on 0.1.0. */
  before: string;
  attempts: number;
  errors: number;
  forks: number;
  falseSignOuts: number;
  thefts: number;
  conflicts: number;
  seconds: number;
}

beforeAll(async () => {
  cluster = await startGaleraCluster({ nodes: 3 });
  for (const node of cluster.nodes) {
    const connection = await mysql.createConnection({ uri: node.url });
    // Causal reads and SHOWs (1 + 8), so row checks and status counters include
    // everything any node committed or applied before them: a node that is still applying
    // another's schema change (DDL is replicated too) would otherwise count it later.
    await connection.query("SET SESSION wsrep_sync_wait = 9");
    admin.set(node.index, connection);
  }
}, 120_000);

afterAll(async () => {
  await stopInstances([...running]);
  for (const connection of admin.values()) await connection.end().catch(() => {});
  await cluster?.stop();
  if (process.env.LATCHKEY_REPORT) console.log(formatFigures(figures));
}, 60_000);

// ---------------------------------------------------------------------------------------
// Instances, requests and measurements.

function recordingLogger(logs: string[], node: number): Logger {
  const echo = Boolean(process.env.LATCHKEY_GALERA_LOG);
  const push = (line: string) => {
    logs.push(line);
    if (echo) console.log(`instance on node ${node}: ${line}`);
  };
  return { warn: (message) => push(`warn: ${message}`), error: (message, error) => push(`error: ${message}: ${describeError(error)}`) };
}

function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let e = error as { code?: unknown; errno?: unknown; message?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    parts.push(`[${String(e.code ?? "")}${e.errno !== undefined ? ` ${String(e.errno)}` : ""}] ${String(e.message ?? e)}`);
    if (parts.length > 4) break;
  }
  return parts.join(" <- ");
}

/** One app instance per node in `nodes`, all on the tables with `prefix`. */
async function startInstances(prefix: string, nodes: readonly number[] = NODES, options: SessionMiddlewareOptions = {}): Promise<Instance[]> {
  return Promise.all(
    nodes.map(async (index) => {
      const node = cluster.nodes[index - 1];
      if (!node) throw new Error(`no node ${index}`);
      const logs: string[] = [];
      const app = createApp({
        store: mysqlStore(node.url, { tablePrefix: prefix }),
        logger: recordingLogger(logs, index),
        ...options,
      });
      // A listening server per instance, so thousands of requests do not each open one.
      const server = http.createServer(app.app);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const instance: Instance = { ...app, node: index, server, logs };
      running.add(instance);
      return instance;
    }),
  );
}

/**
 * A table prefix whose schema one store has migrated already, so that a scenario about
 * refreshes or cleanups is not also a first-use race (the first scenario is that race).
 */
async function migratedPrefix(): Promise<string> {
  const prefix = uniquePrefix();
  const store = mysqlStore((cluster.nodes[0] as { url: string }).url, { tablePrefix: prefix });
  try {
    await store.init();
  } finally {
    await store.close();
  }
  return prefix;
}

async function stopInstances(instances: Instance[]): Promise<void> {
  for (const instance of instances) {
    running.delete(instance);
    await instance.sessions.close().catch(() => {});
    instance.server.closeAllConnections();
    await new Promise((resolve) => instance.server.close(resolve));
  }
}

function loginOn(instance: Instance, userId: string): Promise<TestResponse> {
  return request(instance.server).post("/login").send({ userId });
}

function refreshOn(instance: Instance, token: string): Promise<TestResponse> {
  return request(instance.server).post(REFRESH).set("Cookie", refreshCookie(token));
}

function strictOn(instance: Instance, token: string): Promise<TestResponse> {
  return request(instance.server).get("/api/strict").set("Cookie", accessCookie(token));
}

/** The distinct refresh tokens that successful refreshes of one token handed out: more than one is a fork. */
function successorsOf(responses: TestResponse[]): Set<string> {
  return new Set(responses.filter((res) => res.status === 200).map((res) => tokensOf(res).refresh));
}

/** True when a response cleared the client's tokens (a sign-out as the client sees it). */
function clearedTokens(res: TestResponse): boolean {
  return res.headers["front-token"] === "remove" || [...setCookies(res).values()].some((cookie) => cookie.value === "");
}

/** `count` jobs, at most `parallel` at a time. */
async function inParallel(count: number, parallel: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, count) }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

async function nodeStatus(index: number, names: string[]): Promise<Record<string, number>> {
  const connection = admin.get(index) as mysql.Connection;
  await connection.query("SELECT 1"); // waits until this node has applied the cluster's writes so far
  const [rows] = await connection.query<RowDataPacket[]>("SHOW GLOBAL STATUS WHERE Variable_name IN (?)", [names]);
  return Object.fromEntries(names.map((name) => [name, Number(rows.find((row) => row.Variable_name === name)?.Value ?? NaN)]));
}

/** Certification failures and brute-force aborts so far, summed over the nodes: the 1213s the cluster handed out. */
async function clusterConflicts(): Promise<number> {
  let total = 0;
  for (const index of NODES) {
    const status = await nodeStatus(index, ["wsrep_local_cert_failures", "wsrep_local_bf_aborts"]);
    total += (status.wsrep_local_cert_failures as number) + (status.wsrep_local_bf_aborts as number);
  }
  return total;
}

const DDL_COUNTERS = ["Com_create_table", "Com_alter_table", "Com_drop_table", "Com_create_index", "Com_drop_index"];

/** Every node's DDL statement counters. */
async function ddlCounters(): Promise<Record<string, Record<string, number>>> {
  const counters: Record<string, Record<string, number>> = {};
  for (const index of NODES) counters[`node${index}`] = await nodeStatus(index, DDL_COUNTERS);
  return counters;
}

function sumOf(counters: Record<string, Record<string, number>>): number {
  return Object.values(counters).reduce((sum, node) => sum + Object.values(node).reduce((a, b) => a + b, 0), 0);
}

/** Starts measuring a scenario; `done` records its figures (before the assertions, so a failing run still reports). */
async function measure(scenario: string, before: string) {
  const started = Date.now();
  const conflictsBefore = await clusterConflicts();
  return async (counts: Omit<Figure, "scenario" | "before" | "conflicts" | "seconds">): Promise<Figure> => {
    const figure: Figure = {
      scenario,
      before,
      ...counts,
      conflicts: (await clusterConflicts()) - conflictsBefore,
      seconds: (Date.now() - started) / 1000,
    };
    figures.push(figure);
    return figure;
  };
}

function theftsOf(instances: Instance[]): number {
  return instances.reduce((sum, instance) => sum + instance.events.theft.length, 0);
}

function errorLogsOf(instances: Instance[]): string[] {
  return instances.flatMap((instance) => instance.logs.map((line) => `node ${instance.node}: ${line}`));
}

/** Status codes other than `expected`, with their bodies, for a readable failure. */
function unexpected(responses: TestResponse[], expected: number): string[] {
  return responses.filter((res) => res.status !== expected).map((res) => `${res.status} ${JSON.stringify(res.body)}`);
}

function formatFigures(rows: Figure[]): string {
  const header = ["scenario", "0.1.0 (#11)", "attempts", "errors", "forks", "false sign-outs", "thefts", "cluster conflicts", "s"];
  const body = rows.map((row) => [
    row.scenario,
    row.before,
    String(row.attempts),
    String(row.errors),
    String(row.forks),
    String(row.falseSignOuts),
    String(row.thefts),
    String(row.conflicts),
    row.seconds.toFixed(1),
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((cells) => (cells[i] as string).length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i] as number)).join(" | ")} |`;
  return ["latchkey on a 3-node Galera cluster (spec/galera-cluster.galera.spec.ts)", line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

// ---------------------------------------------------------------------------------------
// The scenarios of #11.

test(
  "first use from 3 instances at once, on a fresh database: every first call succeeds, and all share one secret and key",
  async () => {
    // #11: 16 of 90 first calls answered 503 (1213 on the INSERT IGNOREs of the schema
    // version, the secret and the signing key), whole first bursts lost. A failed start
    // fails its instance's whole first burst, so what counts is how many starts race:
    // here 60 fresh databases (table prefixes), each first used by 3 instances at once
    // with 3 logins each (180 racing starts, 540 first calls; #11 had 9 and 90), because
    // a start that loses the race is rarer now than in 0.1.0 (87 of these 540 failed):
    // measured here, about one round in 60.
    const ROUNDS = 60;
    const CALLS = 3;
    const done = await measure("first use, 3 instances at once (fresh schema) ×60", "16/90 first calls 503");
    const firstCalls: TestResponse[] = [];
    const crossCalls: TestResponse[] = [];
    let forks = 0;
    let thefts = 0;
    const logs: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const instances = await startInstances(uniquePrefix());
      try {
        const responses = await Promise.all(
          instances.flatMap((instance, i) => Array.from({ length: CALLS }, (_, k) => loginOn(instance, `first-${round}-${i}-${k}`))),
        );
        firstCalls.push(...responses);
        // One token from each instance: its access token verifies on every instance (one
        // signing key won), and its refresh token sent to all three at once earns one
        // successor (one successor secret won).
        for (let i = 0; i < instances.length; i++) {
          const res = responses[i * CALLS] as TestResponse;
          if (res.status !== 200) continue;
          const { access, refresh } = tokensOf(res);
          crossCalls.push(...(await Promise.all(instances.map((other) => request(other.server).get("/api/me").set("Cookie", accessCookie(access))))));
          const refreshed = await Promise.all(instances.map((other) => refreshOn(other, refresh)));
          crossCalls.push(...refreshed);
          if (successorsOf(refreshed).size > 1) forks++;
        }
        thefts += theftsOf(instances);
        logs.push(...errorLogsOf(instances));
      } finally {
        await stopInstances(instances);
      }
    }
    const all = [...firstCalls, ...crossCalls];
    await done({
      attempts: firstCalls.length,
      errors: unexpected(firstCalls, 200).length,
      forks,
      falseSignOuts: crossCalls.filter((res) => res.status === 401).length,
      thefts,
    });

    // latchkey's own log lines first: they name the statement and the driver's error.
    expect(logs).toEqual([]);
    expect(unexpected(all, 200)).toEqual([]);
    expect(firstCalls.map((res) => res.status)).toEqual(Array(ROUNDS * 3 * CALLS).fill(200));
    expect(crossCalls.map((res) => res.status)).toEqual(Array(ROUNDS * 3 * 6).fill(200));
    expect(forks).toBe(0);
    expect(thefts).toBe(0);
  },
  SCENARIO_TIMEOUT_MS,
);

test(
  "instances started on an already-migrated schema run no DDL on any node",
  async () => {
    const done = await measure("restart: 3 more instances on a migrated schema", "DDL at every start");
    const prefix = uniquePrefix();
    const beforeMigration = await ddlCounters();
    const [first] = await startInstances(prefix, [1]);
    try {
      await (first as Instance).sessions.ready();
      expect((await loginOn(first as Instance, "migrated")).status).toBe(200);
    } finally {
      await stopInstances([first as Instance]);
    }
    const migrated = await ddlCounters();
    // The counters do see latchkey's migration, so an unchanged count below means no DDL.
    expect(sumOf(migrated)).toBeGreaterThan(sumOf(beforeMigration));

    const instances = await startInstances(prefix);
    const calls: TestResponse[] = [];
    let after: Record<string, Record<string, number>>;
    try {
      await Promise.all(instances.map((instance) => instance.sessions.ready()));
      const logins = await Promise.all(instances.map((instance, i) => loginOn(instance, `restarted-${i}`)));
      calls.push(...logins);
      // And the sessions work across them: each refreshed on the next instance.
      calls.push(...(await Promise.all(logins.map((res, i) => refreshOn(instances[(i + 1) % 3] as Instance, tokensOf(res).refresh)))));
      after = await ddlCounters();
      await done({
        attempts: instances.length,
        errors: sumOf(after) - sumOf(migrated) + unexpected(calls, 200).length,
        forks: 0,
        falseSignOuts: calls.filter((res) => res.status === 401).length,
        thefts: theftsOf(instances),
      });
      expect(errorLogsOf(instances)).toEqual([]);
    } finally {
      await stopInstances(instances);
    }
    expect(unexpected(calls, 200)).toEqual([]);
    expect(after).toEqual(migrated);
  },
  SCENARIO_TIMEOUT_MS,
);

test(
  "one refresh token sent to 3 instances at once, ×50: all 150 answer 200 with the same successor",
  async () => {
    // As in #11 (76 of 150 answered 503): 50 sessions, each token sent to the three
    // instances at the same moment, one session after another.
    const SESSIONS = 50;
    const done = await measure("one token on 3 instances at once ×50", "76/150 refreshes 503");
    const instances = await startInstances(await migratedPrefix());
    const refreshes: TestResponse[] = [];
    const follow: TestResponse[] = [];
    let forks = 0;
    try {
      await Promise.all(instances.map((instance) => instance.sessions.ready()));
      const logins = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => loginOn(instances[i % 3] as Instance, `three-${i}`)));
      expect(unexpected(logins, 200)).toEqual([]);
      for (const [i, login] of logins.entries()) {
        const responses = await Promise.all(instances.map((instance) => refreshOn(instance, tokensOf(login).refresh)));
        refreshes.push(...responses);
        if (successorsOf(responses).size > 1) forks++;
        // The successor is the session's live token: it rotates once more, elsewhere.
        follow.push(await refreshOn(instances[(i + 1) % 3] as Instance, tokensOf(responses[0] as TestResponse).refresh));
      }
      const figure = await done({
        attempts: refreshes.length,
        errors: unexpected(refreshes, 200).length,
        forks,
        falseSignOuts: [...refreshes, ...follow].filter((res) => res.status === 401 && clearedTokens(res)).length,
        thefts: theftsOf(instances),
      });
      expect(errorLogsOf(instances)).toEqual([]);
      expect(unexpected(refreshes, 200)).toEqual([]);
      expect(refreshes.map((res) => res.status)).toEqual(Array(SESSIONS * 3).fill(200));
      expect(forks).toBe(0);
      expect(follow.map((res) => res.status)).toEqual(Array(SESSIONS).fill(200));
      expect(figure.thefts).toBe(0);
      // The scenario is a real race: the nodes certified conflicting rotations.
      expect(figure.conflicts).toBeGreaterThan(0);
    } finally {
      await stopInstances(instances);
    }
  },
  SCENARIO_TIMEOUT_MS,
);

test(
  "every token refreshed on 2 instances at once, sessions × rounds: no 503, no fork, no theft",
  async () => {
    // As in #11 (231 of 2000 refreshes answered 503): 200 sessions × 5 rounds, all
    // sessions at once in each round, each token sent to a pair of instances at the same
    // moment; the pair changes every round.
    const SESSIONS = 200;
    const ROUNDS = 5;
    const done = await measure("each token on 2 instances at once, 200 sessions ×5 rounds", "231/2000 refreshes 503");
    const instances = await startInstances(await migratedPrefix());
    const refreshes: TestResponse[] = [];
    let forks = 0;
    try {
      await Promise.all(instances.map((instance) => instance.sessions.ready()));
      const logins = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => loginOn(instances[i % 3] as Instance, `pair-${i}`)));
      expect(unexpected(logins, 200)).toEqual([]);
      let tokens = logins.map((res) => tokensOf(res).refresh);
      for (let round = 0; round < ROUNDS; round++) {
        tokens = await Promise.all(
          tokens.map(async (token, i) => {
            const pair = [instances[(i + round) % 3], instances[(i + round + 1) % 3]] as Instance[];
            const responses = await Promise.all(pair.map((instance) => refreshOn(instance, token)));
            refreshes.push(...responses);
            if (successorsOf(responses).size > 1) forks++;
            return tokensOf(responses[0] as TestResponse).refresh;
          }),
        );
      }
      const figure = await done({
        attempts: refreshes.length,
        errors: unexpected(refreshes, 200).length,
        forks,
        falseSignOuts: refreshes.filter((res) => res.status === 401 && clearedTokens(res)).length,
        thefts: theftsOf(instances),
      });
      expect(errorLogsOf(instances)).toEqual([]);
      expect(unexpected(refreshes, 200)).toEqual([]);
      expect(refreshes.map((res) => res.status)).toEqual(Array(SESSIONS * ROUNDS * 2).fill(200));
      expect(forks).toBe(0);
      expect(figure.thefts).toBe(0);
      expect(figure.conflicts).toBeGreaterThan(0);
    } finally {
      await stopInstances(instances);
    }
  },
  SCENARIO_TIMEOUT_MS,
);

test(
  "control: on the raw cluster, without wsrep_sync_wait, another node's commit can be missed by a read right after it",
  async () => {
    // What 0.1.0 ran into (wsrep_sync_wait = 0), with plain mysql2 and no latchkey: a row
    // inserted, then updated, on one node and read at once on another. It shows the two
    // scenarios below are races this cluster really has. Reported, not asserted: how often
    // a read overtakes replication depends on timing.
    const ROWS = 300;
    const done = await measure("control: raw read on B right after commit on A, wsrep_sync_wait=0", "(what 0.1.0 read)");
    const writers = await Promise.all(cluster.nodes.map((node) => mysql.createConnection({ uri: node.url })));
    const readers = await Promise.all(cluster.nodes.map((node) => mysql.createConnection({ uri: node.url })));
    let stale = 0;
    try {
      const table = `${uniquePrefix()}control`;
      await (writers[0] as mysql.Connection).query(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, revoked INT NOT NULL) ENGINE=InnoDB`);
      for (const reader of readers) await reader.query("SET SESSION wsrep_sync_wait = 0");
      for (let i = 0; i < ROWS; i++) {
        const writer = writers[i % 3] as mysql.Connection;
        const reader = readers[(i + 1) % 3] as mysql.Connection;
        await writer.query(`INSERT INTO \`${table}\` VALUES (?, 0)`, [i]);
        const [inserted] = await reader.query<RowDataPacket[]>(`SELECT revoked FROM \`${table}\` WHERE id = ?`, [i]);
        if (inserted.length === 0) stale++;
        await writer.query(`UPDATE \`${table}\` SET revoked = 1 WHERE id = ?`, [i]);
        const [updated] = await reader.query<RowDataPacket[]>(`SELECT revoked FROM \`${table}\` WHERE id = ?`, [i]);
        if (updated[0]?.revoked !== 1) stale++;
      }
    } finally {
      await Promise.all([...writers, ...readers].map((connection) => connection.end().catch(() => {})));
    }
    await done({ attempts: ROWS * 2, errors: stale, forks: 0, falseSignOuts: 0, thefts: 0 });
  },
  SCENARIO_TIMEOUT_MS,
);

test(
  "a login on one node is at once refreshable, and checkDatabase-verifiable, on another",
  async () => {
    // As in #11 (×900: 4 refreshes and 12 checks answered 401 and cleared the tokens):
    // each login's tokens are used on another instance as soon as the login answers, a
    // refresh and a checkDatabase request at once, cycling through all 6 ordered pairs of
    // instances. One login at a time, as #11 did: with several in flight, this process's
    // own event loop delays each follow-up request long enough for replication to land
    // first. (Measured with 0.1.0 on this harness: one at a time, 6 of 1800 failed, 5 of
    // them clearing the tokens; with 3 or 10 in flight, 0 or 1.)
    const LOGINS = 900;
    const PARALLEL = 1;
    const done = await measure("login on A, then at once refresh + checkDatabase on B ×900", "16/1800 answered 401 (tokens cleared)");
    const instances = await startInstances(await migratedPrefix());
    const refreshes: TestResponse[] = [];
    const checks: TestResponse[] = [];
    try {
      await Promise.all(instances.map((instance) => instance.sessions.ready()));
      await inParallel(LOGINS, PARALLEL, async (i) => {
        const a = instances[i % 3] as Instance;
        const b = instances[(i + 1 + (Math.floor(i / 3) % 2)) % 3] as Instance;
        const login = await loginOn(a, `causal-${i}`);
        expect(login.status).toBe(200);
        const { access, refresh } = tokensOf(login);
        const [refreshed, checked] = await Promise.all([refreshOn(b, refresh), strictOn(b, access)]);
        refreshes.push(refreshed);
        checks.push(checked);
      });
      const figure = await done({
        attempts: refreshes.length + checks.length,
        errors: unexpected(refreshes, 200).length + unexpected(checks, 200).length,
        forks: 0,
        falseSignOuts: [...refreshes, ...checks].filter((res) => res.status === 401).length,
        thefts: theftsOf(instances),
      });
      expect(errorLogsOf(instances)).toEqual([]);
      expect(unexpected(refreshes, 200)).toEqual([]);
      expect(unexpected(checks, 200)).toEqual([]);
      expect(refreshes.map((res) => res.status)).toEqual(Array(LOGINS).fill(200));
      expect(checks.map((res) => res.status)).toEqual(Array(LOGINS).fill(200));
      expect(refreshes.filter(clearedTokens)).toEqual([]);
      expect(figure.thefts).toBe(0);
    } finally {
      await stopInstances(instances);
    }
  },
  SCENARIO_TIMEOUT_MS,
);

test(
  "checkDatabase on the other nodes right after a sign-out refuses the revoked session",
  async () => {
    // #11: a revoked session was accepted 1-8 times in 400. Here the same 400 checks: 200
    // sign-outs, each followed at once by a checkDatabase request on both other instances
    // (long before their 2 s revocation poll could tell them). One sign-out at a time, for
    // the reason given in the scenario above. (Measured with 0.1.0 on this harness: 10 of
    // 400 accepted one at a time; 0 or 1 with 3 or 10 in flight.)
    const SIGNOUTS = 200;
    const PARALLEL = 1;
    const done = await measure("checkDatabase on B and C right after sign-out on A ×200", "revoked session accepted 1-8/400");
    const instances = await startInstances(await migratedPrefix());
    const signOuts: TestResponse[] = [];
    const checks: TestResponse[] = [];
    try {
      await Promise.all(instances.map((instance) => instance.sessions.ready()));
      await inParallel(SIGNOUTS, PARALLEL, async (i) => {
        const a = instances[i % 3] as Instance;
        const others = instances.filter((instance) => instance !== a);
        const login = await loginOn(a, `signout-${i}`);
        expect(login.status).toBe(200);
        const { access } = tokensOf(login);
        signOuts.push(await request(a.server).post("/auth/signout").set("Cookie", accessCookie(access)));
        checks.push(...(await Promise.all(others.map((other) => strictOn(other, access)))));
      });
      const accepted = checks.filter((res) => res.status === 200).length;
      const figure = await done({
        attempts: checks.length,
        errors: accepted + unexpected(signOuts, 200).length + checks.filter((res) => res.status !== 200 && res.status !== 401).length,
        forks: 0,
        falseSignOuts: 0,
        thefts: theftsOf(instances),
      });
      expect(errorLogsOf(instances)).toEqual([]);
      expect(unexpected(signOuts, 200)).toEqual([]);
      expect(checks.map((res) => [res.status, res.body.message])).toEqual(Array(SIGNOUTS * 2).fill([401, "unauthorised"]));
      expect(figure.thefts).toBe(0);
    } finally {
      await stopInstances(instances);
    }
  },
  SCENARIO_TIMEOUT_MS,
);

test(
  "cleanup from 3 instances at once: every call succeeds, and each expired session is deleted once",
  async () => {
    // As in #11 (10 of 15 calls failed with 1213): 5 rounds of one cleanup on each of the
    // three instances at once. Each round first creates 60 sessions that have expired (by
    // an instance whose clock runs 31 days behind) and 6 live ones; batches of 10, so the
    // three cleanups take overlapping batches on their own nodes.
    const ROUNDS = 5;
    const EXPIRED = 60;
    const LIVE = 6;
    const done = await measure("cleanup on 3 instances at once ×5", "10/15 calls failed (1213)");
    const prefix = await migratedPrefix();
    const instances = await startInstances(prefix, NODES, { cleanupInterval: false });
    const [seeder] = await startInstances(prefix, [1], { cleanupInterval: false, clock: () => Date.now() - 31 * DAY_MS });
    const calls: PromiseSettledResult<{ sessions: number }>[] = [];
    const problems: string[] = [];
    try {
      await Promise.all([...instances, seeder as Instance].map((instance) => instance.sessions.ready()));
      for (let round = 0; round < ROUNDS; round++) {
        const expired = await Promise.all(Array.from({ length: EXPIRED }, (_, i) => loginOn(seeder as Instance, `expired-${round}-${i}`)));
        const live = await Promise.all(Array.from({ length: LIVE }, (_, i) => loginOn(instances[i % 3] as Instance, `live-${round}-${i}`)));
        expect(unexpected([...expired, ...live], 200)).toEqual([]);
        const seen = instances.map((instance) => instance.events.revoked.length);
        const results = await Promise.allSettled(instances.map((instance) => instance.sessions.cleanup({ batchSize: 10 })));
        calls.push(...results);
        const deleted = results.reduce((sum, result) => sum + (result.status === "fulfilled" ? result.value.sessions : 0), 0);
        const events = instances.flatMap((instance, i) => instance.events.revoked.slice(seen[i]));
        if (events.some((event) => event.reason !== "expiry")) problems.push(`round ${round}: a cleanup revoked for another reason than expiry`);
        const handles = events.map((event) => event.handle);
        const expiredHandles = expired.map((res) => res.body.handle as string);
        if (deleted !== EXPIRED) problems.push(`round ${round}: ${deleted} sessions reported deleted, not ${EXPIRED}`);
        if (new Set(handles).size !== handles.length) problems.push(`round ${round}: an expired session was reported by two cleanups`);
        if ([...handles].sort().join() !== [...expiredHandles].sort().join()) problems.push(`round ${round}: expiry events are not the expired sessions`);
        const [rows] = await (admin.get(2) as mysql.Connection).query<RowDataPacket[]>(
          `SELECT COALESCE(SUM(expires_at <= ?), 0) AS expired, COALESCE(SUM(expires_at > ?), 0) AS live FROM \`${prefix}sessions\``,
          [Date.now(), Date.now()],
        );
        const left = { expired: Number(rows[0]?.expired), live: Number(rows[0]?.live) };
        if (left.expired !== 0 || left.live !== LIVE * (round + 1)) problems.push(`round ${round}: left ${JSON.stringify(left)}`);
      }
      const failures = calls.filter((result): result is PromiseRejectedResult => result.status === "rejected");
      await done({ attempts: calls.length, errors: failures.length, forks: 0, falseSignOuts: 0, thefts: theftsOf(instances) });
      // The seeder's clock is a month behind on purpose (its logins are born expired), which it
      // rightly reports as clock skew against the database (issue 19 CS1); nothing else may be logged.
      const skewWarning = /^node \d: warn: the clock of this instance \(.*\) is \d+ s behind the database's/;
      expect(errorLogsOf([...instances, seeder as Instance]).filter((line) => !skewWarning.test(line))).toEqual([]);
      expect(failures.map((result) => describeError(result.reason))).toEqual([]);
      expect(calls.map((result) => result.status)).toEqual(Array(ROUNDS * 3).fill("fulfilled"));
      expect(problems).toEqual([]);
    } finally {
      await stopInstances([...instances, seeder as Instance]);
    }
  },
  SCENARIO_TIMEOUT_MS,
);
