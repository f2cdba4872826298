import mysql from "mysql2/promise";
import { mysqlStore } from "../lib";
import { createApp, DATABASE_URL, request, StoreFactory, type TestApp } from "./helpers";

/**
 * Issue 19, DB1: a statement error the server answered (a missing table, a missing column)
 * leaves the connection in step, so it goes back to the pool; only connection-level faults
 * destroy one. Replacing a connection on every failing request would turn a schema or
 * permission fault into a storm of new connections on the database.
 */
describe("statement errors on MySQL", () => {
  const stores = new StoreFactory("mysql");
  let admin: mysql.Connection;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: DATABASE_URL });
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
  });
  afterAll(async () => {
    await admin.end();
    await stores.cleanup();
  });

  const FAULTS: [string, (prefix: string) => string, string][] = [
    ["the sessions table dropped (ER_NO_SUCH_TABLE, 1146)", (prefix) => `DROP TABLE \`${prefix}sessions\``, "ER_NO_SUCH_TABLE"],
    ["a column of it dropped (ER_BAD_FIELD_ERROR, 1054)", (prefix) => `ALTER TABLE \`${prefix}sessions\` DROP COLUMN last_user_agent`, "ER_BAD_FIELD_ERROR"],
  ];

  it.each(FAULTS)("with %s, 50 failing logins open at most one new connection: each answers 503 and its connection goes back to the pool", async (_name, fault, code) => {
    const prefix = stores.newPrefix();
    const pool = mysql.createPool({ uri: DATABASE_URL, connectionLimit: 10 });
    const opened = { count: 0 };
    pool.pool.on("connection", () => void opened.count++);
    const errors: unknown[] = [];
    const fixture: TestApp = createApp({
      store: mysqlStore(pool, { tablePrefix: prefix }),
      logger: { warn() {}, error: (message, error) => void (message.startsWith("could not store a new session") && errors.push(error)), debug() {} },
    });
    cleanups.push(() => fixture.sessions.close(), () => pool.end());
    await fixture.sessions.ready();
    await admin.query(fault(prefix));

    const before = opened.count;
    for (let i = 0; i < 50; i++) {
      const res = await request(fixture.app).post("/login").send({ userId: `user-${i}` });
      expect([res.status, res.body]).toEqual([503, { message: "session store unavailable", code: "STORE_UNAVAILABLE" }]);
    }
    // At most one more: a background poll (every 2 s) may need a second connection beside a login.
    expect(opened.count - before).toBeLessThanOrEqual(1);
    expect(errors).toEqual([expect.objectContaining({ code })]);
  });
});
