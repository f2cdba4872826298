import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import mysql from "mysql2/promise";
import { mysqlStore } from "../lib";
import { schemaSql, TABLES } from "../lib/store/schema";
import { createApp, DATABASE_URL, request, uniquePrefix } from "./helpers";
import { CoreDatabase, cookieFlow } from "./support/supertokens-core";
import { LOGIN_AT, refreshWithCookie } from "./support/supertokens-suite";

// docs/supertokens-migration.md "Grants": the app's user gets exactly the SQL the page shows
// on the core's tables (and data-only grants on latchkey's), and the migration works with it.
const GRANTS = (() => {
  const page = readFileSync(path.join(__dirname, "..", "docs", "supertokens-migration.md"), "utf8");
  const section = page.slice(page.indexOf("\n## Grants\n"));
  return /```sql\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
})();

describe("the grants docs/supertokens-migration.md lists are enough", () => {
  const lk = uniquePrefix();
  const core = new CoreDatabase(`${uniquePrefix()}st_`);
  const database = new URL(DATABASE_URL).pathname.slice(1);
  const user = `lk_${randomBytes(4).toString("hex")}`;
  let admin: mysql.Connection;
  let url: string;

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: DATABASE_URL, multipleStatements: true });
    await core.create();
    await admin.query(schemaSql(lk));
    const password = randomBytes(12).toString("base64url");
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`);
    for (const table of TABLES) await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON \`${database}\`.\`${lk}${table}\` TO '${user}'@'%'`);
    const statements = GRANTS.replaceAll("`app`.`", `\`${database}\`.\`${core.prefix}`).replaceAll("'app'@'%'", `'${user}'@'%'`);
    expect(statements.match(/^GRANT /gm)).toHaveLength(4);
    await admin.query(statements);
    const parsed = new URL(DATABASE_URL);
    parsed.username = user;
    parsed.password = password;
    url = parsed.toString();
  });
  afterAll(async () => {
    await core.drop();
    await admin.query(`DROP USER IF EXISTS '${user}'@'%'`);
    for (const table of TABLES) await admin.query(`DROP TABLE IF EXISTS \`${lk}${table}\``);
    await admin.end();
  });

  it("migrates a session, verifies core access tokens with checkDatabase, and never needed more", async () => {
    await core.seed(cookieFlow.loginRow);
    const app = createApp({
      store: mysqlStore(url, { tablePrefix: lk, migrate: false }),
      clock: () => LOGIN_AT + 10_000,
      migrateFromSuperTokens: { tablePrefix: core.prefix, acceptCoreAccessTokens: true },
    });
    try {
      await request(app.app).get("/api/strict").set("Cookie", `sAccessToken=${cookieFlow.AT0}`).expect(200);
      await refreshWithCookie(app, cookieFlow.RT0).expect(200);
      expect(await core.row(cookieFlow.loginRow.session_handle)).toBeUndefined();
    } finally {
      await app.sessions.close();
    }
  });
});
