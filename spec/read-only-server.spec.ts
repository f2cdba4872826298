import mysql, { type RowDataPacket } from "mysql2/promise";
import { mysqlStore, schemaSql, SessionError } from "../lib";
import { createApp, request, uniquePrefix } from "./helpers";
import { startReadOnlyMariaDb, type ReadOnlyMariaDb } from "./support/read-only-mariadb";

// Issue 22 item 6: a store pointed at a replica. Its own server, started --read-only:
// SET GLOBAL read_only on the shared test database would break every spec beside this one.
const MESSAGE = "latchkey: this MySQL server is read-only (a replica?): point LATCHKEY_DATABASE_URL at the primary (read_only is ON).";

describe("a store on a read-only server (a replica)", () => {
  let server: ReadOnlyMariaDb;
  let root: mysql.Connection;

  beforeAll(async () => {
    server = await startReadOnlyMariaDb();
    root = await server.root();
  }, 60_000);
  afterAll(async () => {
    await root?.end();
    await server?.stop();
  });

  async function rowCount(table: string): Promise<number> {
    const [rows] = await root.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\``);
    return Number(rows[0]?.n);
  }

  async function tablesWithPrefix(prefix: string): Promise<string[]> {
    const [rows] = await root.query<RowDataPacket[]>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'test' AND table_name LIKE ? ORDER BY 1",
      [`${prefix}%`],
    );
    return rows.map((row) => String(row.name));
  }

  async function expectRefused(ready: Promise<void>): Promise<void> {
    const error = await ready.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE", status: 503 });
    expect((error as SessionError).cause).toMatchObject({ code: "LATCHKEY_READ_ONLY_SERVER", message: MESSAGE });
  }

  it("refuses the app user (DML only) in ready(), naming the replica and the primary, and a login answers 503", async () => {
    const prefix = uniquePrefix();
    await root.query(schemaSql(prefix)); // applied by hand, as a team without DDL at run time does
    const { app, sessions } = createApp({ store: mysqlStore(server.appUrl, { tablePrefix: prefix, migrate: false }) });
    try {
      await expectRefused(sessions.ready());
      const res = await request(app).post("/login").send({ userId: "user-1" }).expect(503);
      expect(res.body).toEqual({ message: "session store unavailable", code: "STORE_UNAVAILABLE" });
      expect(await rowCount(`${prefix}sessions`)).toBe(0);
      expect(await rowCount(`${prefix}signing_keys`)).toBe(0);
      expect(await rowCount(`${prefix}secrets`)).toBe(0);
    } finally {
      await sessions.close();
    }
  });

  it("refuses root too (READ ONLY ADMIN lets it write to a replica): no table, key or secret is created", async () => {
    const prefix = uniquePrefix();
    const pool = mysql.createPool({ socketPath: server.socketPath, user: "root", database: "test" });
    const { sessions } = createApp({ store: mysqlStore(pool, { tablePrefix: prefix }) });
    try {
      await expectRefused(sessions.ready());
      // Root could have written: the server takes its writes, so only the check stopped them.
      await root.query("CREATE TABLE `" + prefix + "probe` (id INT PRIMARY KEY)");
      expect(await tablesWithPrefix(prefix)).toEqual([`${prefix}probe`]);
    } finally {
      await sessions.close();
      await root.query("DROP TABLE IF EXISTS `" + prefix + "probe`");
      await pool.end();
    }
  });
});
