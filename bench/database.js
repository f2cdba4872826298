// The bench's own tables in the test database: reset, bulk seeding of a sessions table,
// and housekeeping. Only tables whose names start with one of the bench prefixes are touched.
const mysql = require("mysql2/promise");

const TABLES = ["sessions", "signing_keys", "secrets", "schema_version", "express_sessions"];

// A browser-like user agent and a documentation-range IP, so seeded rows are as wide as real ones.
const USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

const sessions = (prefix) => `\`${prefix}sessions\``;

class BenchDatabase {
  constructor(url, prefixes) {
    this.url = url;
    this.prefixes = prefixes;
  }

  async connect() {
    this.db = await mysql.createConnection({ uri: this.url });
    return this;
  }

  async dropTables() {
    for (const prefix of this.prefixes) {
      for (const table of TABLES) await this.db.query(`DROP TABLE IF EXISTS \`${prefix}${table}\``);
    }
  }

  async count(prefix) {
    const [[row]] = await this.db.query(`SELECT COUNT(*) AS n FROM ${sessions(prefix)}`);
    return Number(row.n);
  }

  async deleteUser(prefix, userId) {
    await this.db.query(`DELETE FROM ${sessions(prefix)} WHERE user_id = ?`, [userId]);
  }

  /**
   * Fills `prefix`'s sessions table with `total` rows (the table must exist: a latchkey
   * server migrates it on first use). Handles look like random UUIDs, but their first 32
   * bits are the row number scaled over the whole key space: the rows are spread evenly,
   * so the random handles of new sessions land among them as they would in production,
   * and each statement inserts in key order, which keeps seeding fast. Multi-row
   * INSERT ... SELECT over a cross join of digits, 100,000 rows a statement.
   */
  async seed(prefix, total) {
    const now = Date.now();
    const digits =
      "(SELECT 0 d UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 " +
      "UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)";
    const batch = 100_000;
    for (let base = 0; base < total; base += batch) {
      await this.db.query(
        `INSERT INTO ${sessions(prefix)} (session_handle, user_id, refresh_token_hash, prev_refresh_token_hash, rotated_at,
           access_token_payload, session_data, created_at, last_refreshed_at, expires_at, absolute_expires_at,
           revoked_at, ip, user_agent)
         SELECT CONCAT(LPAD(HEX(FLOOR(s.n * ?)), 8, '0'), '-', SUBSTR(s.h, 1, 4), '-4', SUBSTR(s.h, 5, 3), '-a',
                       SUBSTR(s.h, 8, 3), '-', SUBSTR(s.h, 11, 12)),
                CONCAT('seed-user-', s.n % 100000),
                UNHEX(SHA2(CONCAT('seed-token-', s.n), 256)), NULL, NULL,
                '{"role":"member"}', '{}', ? - s.n, ? - s.n % 86400000, ? + (s.n % 30) * 86400000, ? + 180 * 86400000,
                NULL, CONCAT('203.0.113.', s.n % 256), ?
         FROM (SELECT ? + a.d + b.d * 10 + c.d * 100 + e.d * 1000 + f.d * 10000 AS n,
                      MD5(CONCAT('seed-', ? + a.d + b.d * 10 + c.d * 100 + e.d * 1000 + f.d * 10000)) AS h
               FROM ${digits} a CROSS JOIN ${digits} b CROSS JOIN ${digits} c CROSS JOIN ${digits} e CROSS JOIN ${digits} f) s
         WHERE s.n < ?
         ORDER BY s.n`,
        [2 ** 32 / total, now, now, now + 3_600_000, now, USER_AGENT, base, base, total],
      );
    }
  }

  async close() {
    await this.db?.end();
  }
}

module.exports = { BenchDatabase };
