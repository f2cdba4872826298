// @ts-check
// Where accounts are kept: a MySQL table in the database latchkey uses, or a Map.
// Only the salt and the scrypt hash of a password are stored.

/** @typedef {import("./users").UserRecord} UserRecord @typedef {import("./users").UserTable} UserTable */

/** @returns {UserTable} */
function memoryUserTable() {
  /** @type {Map<string, UserRecord>} */
  const byName = new Map();
  return {
    async init() {},
    async insert(record) {
      if (byName.has(record.name)) return false;
      byName.set(record.name, record);
      return true;
    },
    async findByName(name) {
      return byName.get(name) ?? null;
    },
    async findById(id) {
      return [...byName.values()].find((record) => record.id === id) ?? null;
    },
  };
}

/**
 * @param {import("mysql2/promise").Pool} pool
 * @param {string} table
 * @returns {UserTable}
 */
function mysqlUserTable(pool, table) {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(table)) {
    throw new TypeError(`the users table name must be 1 to 64 letters, digits or underscores (got ${JSON.stringify(table)}).`);
  }
  const name = `\`${table}\``;
  const columns = "id, name, password_salt, password_hash, created_at";

  /** @param {"id" | "name"} column @param {string} value @returns {Promise<UserRecord | null>} */
  async function findBy(column, value) {
    const [rows] = /** @type {[import("mysql2/promise").RowDataPacket[], unknown]} */ (
      await pool.execute(`SELECT ${columns} FROM ${name} WHERE ${column} = ?`, [value])
    );
    const row = rows[0];
    if (!row) return null;
    return {
      id: String(row.id),
      name: String(row.name),
      createdAt: Number(row.created_at),
      password: { salt: row.password_salt, hash: row.password_hash },
    };
  }

  return {
    async init() {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${name} (
        id CHAR(36) NOT NULL PRIMARY KEY,
        name VARCHAR(32) NOT NULL UNIQUE,
        password_salt VARBINARY(16) NOT NULL,
        password_hash VARBINARY(64) NOT NULL,
        created_at BIGINT NOT NULL
      )`);
    },
    async insert(record) {
      try {
        await pool.execute(`INSERT INTO ${name} (${columns}) VALUES (?, ?, ?, ?, ?)`, [
          record.id,
          record.name,
          record.password.salt,
          record.password.hash,
          record.createdAt,
        ]);
        return true;
      } catch (error) {
        if (/** @type {{ code?: unknown }} */ (error).code === "ER_DUP_ENTRY") return false;
        throw error;
      }
    },
    findByName: (value) => findBy("name", value),
    findById: (value) => findBy("id", value),
  };
}

module.exports = { memoryUserTable, mysqlUserTable };
