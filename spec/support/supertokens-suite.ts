import mysql from "mysql2/promise";
import { mysqlStore } from "../../lib";
import { createApp, DATABASE_URL, request, uniquePrefix, type TestApp } from "../helpers";
import { CoreDatabase, cookieFlow, type CoreRowSeed } from "./supertokens-core";

/** When the captured login happened (epoch ms): the suites' clocks start 10 s later. */
export const LOGIN_AT = cookieFlow.loginRow.created_at_time;
export const REFRESH = "/auth/session/refresh";
export const HANDLE = cookieFlow.loginRow.session_handle;

export type MigratingApp = TestApp & { clock: { now: number } };

/**
 * A spec file's migration setting: the core's tables (seeded keys) under a prefix of its own,
 * latchkey's tables under another, apps closed after each test, everything dropped at the end,
 * and the core's key tables proved unwritten.
 */
export function coreSuite() {
  const lk = uniquePrefix();
  const core = new CoreDatabase(`${uniquePrefix()}st_`);
  const apps: TestApp[] = [];
  let keyTablesBefore: string;
  let db: mysql.Connection;

  beforeAll(async () => {
    await core.create();
    keyTablesBefore = await core.keyTables();
    db = await mysql.createConnection({ uri: DATABASE_URL });
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.sessions.close();
  });
  afterAll(async () => {
    // The store reads the core's key tables and never writes them.
    expect(await core.keyTables()).toBe(keyTablesBefore);
    await core.drop();
    for (const table of ["sessions", "signing_keys", "secrets", "claim_invalidations", "schema_version"]) await db.query(`DROP TABLE IF EXISTS \`${lk}${table}\``);
    await db.end();
  });

  return {
    lk,
    core,
    /** An app on latchkey's tables with the migration on, its clock pinned (and movable). */
    app(options: Record<string, unknown> = {}, start = LOGIN_AT + 10_000, coreDb = core): MigratingApp {
      const clock = { now: start };
      const app = createApp({
        store: mysqlStore(DATABASE_URL, { tablePrefix: lk }),
        clock: () => clock.now,
        ...options,
        migrateFromSuperTokens: { tablePrefix: coreDb.prefix, ...(options.migrateFromSuperTokens as object | undefined) },
      });
      apps.push(app);
      return Object.assign(app, { clock });
    },
    async latchkeyRow(handle: string): Promise<Record<string, unknown> | undefined> {
      const [rows] = await db.query<mysql.RowDataPacket[]>(`SELECT * FROM \`${lk}sessions\` WHERE session_handle = ?`, [handle]);
      return rows[0];
    },
    /** Seeds a core row (replacing it), with no latchkey row of its handle. */
    async fresh(row: CoreRowSeed, changes: Partial<CoreRowSeed> = {}, coreDb = core): Promise<void> {
      await db.query(`DELETE FROM \`${lk}sessions\` WHERE session_handle = ?`, [row.session_handle]).catch(() => {});
      await coreDb.seed(row, changes);
    },
  };
}

/** A cookie-mode refresh with a core refresh token, percent-encoded as the browser sends it. */
export function refreshWithCookie(app: TestApp, token: string, extra: string[] = []) {
  return request(app.app).post(REFRESH).set("rid", "session").set("Cookie", [`sRefreshToken=${encodeURIComponent(token)}`, ...extra].join("; "));
}

// MariaDB returns JSON columns as text, MySQL as values.
export function json(value: unknown): unknown {
  return typeof value === "string" ? JSON.parse(value) : value;
}
