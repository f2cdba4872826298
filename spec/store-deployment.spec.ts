import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { BooleanClaim, mysqlStore, schemaSql, SessionError } from "../lib";
import { MIGRATIONS } from "../lib/store/schema";
import { accessCookie, createApp, DATABASE_URL, login, refreshCookie, request, StoreFactory, tokensOf } from "./helpers";
import { startTlsMariaDb, type TlsMariaDb } from "./support/tls-mariadb";

// Issue 11 items 4 and 7 on real servers: an app user with SELECT/INSERT/UPDATE/DELETE only
// (the schema applied by hand from `migrate --print`), and TLS to the database.
describe("a least-privilege database user", () => {
  const stores = new StoreFactory("mysql");
  let admin: mysql.Connection;
  const users: string[] = [];

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: DATABASE_URL, multipleStatements: true });
  });
  afterAll(async () => {
    for (const user of users) await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    await admin.end();
    await stores.cleanup();
  });

  /** A user allowed only to read and write data (the admin creates the schema of `prefix` first, unless told not to). */
  async function appUser(prefix: string, options: { createSchema?: boolean | number } = {}): Promise<string> {
    const create = options.createSchema ?? true;
    if (create === true) await admin.query(schemaSql(prefix));
    if (typeof create === "number") {
      // An older schema: only the migrations up to that version.
      await admin.query(`CREATE TABLE \`${prefix}schema_version\` (version INT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (version))`);
      for (const migration of MIGRATIONS.filter((m) => m.version <= create)) {
        for (const statement of migration.statements(prefix)) await admin.query(statement);
        await admin.query(`INSERT INTO \`${prefix}schema_version\` VALUES (?, 0)`, [migration.version]);
      }
    }
    const user = `lk_${randomBytes(4).toString("hex")}`;
    const password = randomBytes(12).toString("base64url");
    users.push(user);
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    // Data only: no CREATE, ALTER, DROP or INDEX (table-level grants need the tables to exist).
    const database = new URL(DATABASE_URL).pathname.slice(1);
    await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database}\`.* TO '${user}'@'%'`);
    const url = new URL(DATABASE_URL);
    url.username = user;
    url.password = password;
    return url.toString();
  }

  it("logs in, verifies, refreshes, revokes, lists, cleans up, rotates keys and invalidates claims, on the default store (the schema is current: no DDL)", async () => {
    const prefix = stores.newPrefix();
    const url = await appUser(prefix);
    const Verified = new BooleanClaim({ key: "st-ev", fetchValue: () => true });
    const { app, sessions } = createApp({ store: mysqlStore(url, { tablePrefix: prefix }), claims: [Verified] });
    await sessions.ready();
    const first = await login(app, "user-1");
    await request(app).get("/api/me").set("Cookie", accessCookie(first.access)).expect(200);
    await request(app).get("/api/strict").set("Cookie", accessCookie(first.access)).expect(200);
    const rotated = tokensOf(await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(first.refresh)).expect(200));
    await sessions.invalidateClaim("user-1", Verified);
    expect((await sessions.listSessions("user-1")).map((session) => session.handle)).toEqual([first.handle]);
    await sessions.rotateKeys();
    await sessions.cleanup();
    await request(app).post("/auth/signout").set("Cookie", accessCookie(rotated.access)).expect(200);
    const second = await login(app, "user-1");
    expect(await sessions.revokeAllSessionsForUser("user-1")).toEqual([second.handle]);
    await sessions.close();
  });

  it("with migrate: false and no schema, fails ready() with the way to apply it, and creates nothing", async () => {
    const prefix = stores.newPrefix();
    const url = await appUser(prefix, { createSchema: false });
    const { sessions } = createApp({ store: mysqlStore(url, { tablePrefix: prefix, migrate: false }) });
    const failure = await sessions.ready().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SessionError);
    expect((failure as SessionError).code).toBe("STORE_UNAVAILABLE");
    expect(((failure as SessionError).cause as Error).message).toBe(
      `latchkey: there are no latchkey tables with prefix "${prefix}", and the store was built with migrate: false, so it runs no DDL: ` +
        "run `npx latchkey migrate` as a user allowed to create and alter tables, or apply the SQL of `npx latchkey migrate --print`.",
    );
    const [tables] = await admin.query("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name LIKE ?", [`${prefix}%`]);
    expect(Number((tables as { n: number }[])[0]?.n)).toBe(0);
    await sessions.close();
  });

  it("on a schema one version behind, says that this user may not upgrade it, and how to", async () => {
    const prefix = stores.newPrefix();
    const url = await appUser(prefix, { createSchema: 1 });
    const { sessions } = createApp({ store: mysqlStore(url, { tablePrefix: prefix }) });
    const failure = (await sessions.ready().catch((error: unknown) => error)) as SessionError;
    expect((failure.cause as Error).message).toBe(
      `latchkey: the tables with prefix "${prefix}" are at schema version 1, and this latchkey needs 2, and the database user may not create or alter tables: ` +
        "run `npx latchkey migrate` as a user allowed to create and alter tables, or apply the SQL of `npx latchkey migrate --print --from 1`.",
    );
    // The upgrade script works for the admin, and then the same user gets on with it.
    await admin.query(schemaSql(prefix, 1));
    await sessions.ready();
    await sessions.close();
  });
});

describe("TLS to the database", () => {
  const stores = new StoreFactory("mysql");
  let server: TlsMariaDb;

  beforeAll(async () => {
    server = await startTlsMariaDb();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("runs sessions over a verified TLS connection (?ssl-ca=), and refuses an unverifiable one (?ssl=true without the CA)", async () => {
    const prefix = stores.newPrefix();
    const verified = createApp({ store: mysqlStore(`${server.url}?ssl-ca=${encodeURIComponent(server.caPath)}`, { tablePrefix: prefix }) });
    const { access, refresh } = await login(verified.app, "user-1");
    await request(verified.app).get("/api/strict").set("Cookie", accessCookie(access)).expect(200);
    await request(verified.app).post("/auth/session/refresh").set("Cookie", refreshCookie(refresh)).expect(200);
    await verified.sessions.close();

    const unverified = createApp({ store: mysqlStore(`${server.url}?ssl=true`, { tablePrefix: prefix }) });
    const failure = (await unverified.sessions.ready().catch((error: unknown) => error)) as SessionError;
    expect(failure.code).toBe("STORE_UNAVAILABLE");
    expect(String((failure.cause as Error).message)).toMatch(/certificate/i);
    await unverified.sessions.close();
  });

  it("takes the CA as a store option too", async () => {
    const { readFileSync } = await import("node:fs");
    const { app, sessions } = createApp({
      store: mysqlStore(server.url, { tablePrefix: stores.newPrefix(), ssl: { ca: readFileSync(server.caPath) } }),
    });
    await login(app, "user-1");
    await sessions.close();
  });
});
