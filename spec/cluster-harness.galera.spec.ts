import mysql from "mysql2/promise";
import type { ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { startGaleraCluster, type GaleraCluster } from "./support/galera";

// Proves spec/support/galera.ts starts a real cluster: writes replicate between nodes, and
// conflicting writes on two nodes meet Galera's certification, not a local lock wait.

const ER_LOCK_DEADLOCK = 1213;

let cluster: GaleraCluster;
const connections: mysql.Connection[] = [];

async function connectTo(index: number): Promise<mysql.Connection> {
  const node = cluster.nodes[index - 1];
  if (!node) throw new Error(`no node ${index}`);
  const connection = await mysql.createConnection({ uri: node.url });
  connections.push(connection);
  return connection;
}

beforeAll(async () => {
  const started = Date.now();
  cluster = await startGaleraCluster({ nodes: 3 });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`galera: ${cluster.nodes.length}-node cluster started in ${seconds} s`);
}, 120_000);

afterAll(async () => {
  await Promise.all(connections.map((connection) => connection.end().catch(() => {})));
  await cluster?.stop();
}, 30_000);

test("every node is a Synced member of one 3-node cluster", async () => {
  for (const index of [1, 2, 3]) {
    const connection = await connectTo(index);
    const [rows] = await connection.query<RowDataPacket[]>(
      "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_cluster_size', 'wsrep_local_state_comment', 'wsrep_ready')",
    );
    const status = Object.fromEntries(rows.map((row) => [row.Variable_name, row.Value]));
    expect(status).toEqual({ wsrep_cluster_size: "3", wsrep_local_state_comment: "Synced", wsrep_ready: "ON" });
  }
});

test("a row inserted on node 1 is read on node 3 with wsrep_sync_wait", async () => {
  const node1 = await connectTo(1);
  const node3 = await connectTo(3);
  await node1.query("CREATE TABLE harness_replication (id INT PRIMARY KEY, label VARCHAR(32)) ENGINE=InnoDB");
  await node1.query("INSERT INTO harness_replication VALUES (1, 'from node 1')");

  // Causal read: node 3 waits until it has applied everything committed before the read.
  await node3.query("SET SESSION wsrep_sync_wait = 1");
  const [rows] = await node3.query<RowDataPacket[]>("SELECT label FROM harness_replication WHERE id = 1");
  expect(rows).toEqual([{ label: "from node 1" }]);
});

test("conflicting updates of one row on two nodes: one fails certification with ER_LOCK_DEADLOCK", async () => {
  const node1 = await connectTo(1);
  const node2 = await connectTo(2);
  await node1.query("CREATE TABLE harness_conflict (id INT PRIMARY KEY, hits INT NOT NULL) ENGINE=InnoDB");
  await node1.query("INSERT INTO harness_conflict VALUES (1, 0)");
  // So node 2's BEGIN waits until it has the row.
  await node2.query("SET SESSION wsrep_sync_wait = 1");

  // Both take the row lock on their own node without waiting on each other: row locks are
  // local in Galera. The conflict only shows when the write sets are certified.
  for (const connection of [node1, node2]) {
    await connection.query("BEGIN");
    const [result] = await connection.query<ResultSetHeader>(
      "UPDATE harness_conflict SET hits = hits + 1 WHERE id = 1",
    );
    expect(result.affectedRows).toBe(1); // a real conflict: both changed the row
  }
  const outcomes = await Promise.allSettled([node1.query("COMMIT"), node2.query("COMMIT")]);

  const failures = outcomes.filter((outcome) => outcome.status === "rejected");
  expect(outcomes.filter((outcome) => outcome.status === "fulfilled")).toHaveLength(1);
  expect(failures).toHaveLength(1);
  expect((failures[0] as PromiseRejectedResult).reason).toMatchObject({ errno: ER_LOCK_DEADLOCK });

  // Only the certified transaction counted, on every node.
  for (const index of [1, 2, 3]) {
    const connection = await connectTo(index);
    await connection.query("SET SESSION wsrep_sync_wait = 1");
    const [rows] = await connection.query<RowDataPacket[]>("SELECT hits FROM harness_conflict WHERE id = 1");
    expect(rows).toEqual([{ hits: 1 }]);
  }
});
