// @ts-check
// Where accounts are kept: a MySQL table in the database latchkey uses, or a Map.
// Only the salt and the scrypt hash of a password are stored, and the account's roles.

/** @typedef {import("./users").UserRecord} UserRecord @typedef {import("./users").UserTable} UserTable */

/** @returns {UserTable} */
function memoryUserTable() {
  /** @type {Map<string, UserRecord>} */
  const byName = new Map();
  /** @param {string} id */
  const byId = (id) => [...byName.values()].find((record) => record.id === id);
  // Copies in and out, as a database would: a caller never holds the stored record.
  /** @param {UserRecord} record @returns {UserRecord} */
  const copy = (record) => ({ ...record, roles: [...record.roles] });
  return {
    async init() {},
    async insert(record) {
      if (byName.has(record.name)) return false;
      byName.set(record.name, copy(record));
      return true;
    },
    async findByName(name) {
      const record = byName.get(name);
      return record ? copy(record) : null;
    },
    async findById(id) {
      const record = byId(id);
      return record ? copy(record) : null;
    },
    async list(limit) {
      return [...byName.values()].sort((a, b) => a.createdAt - b.createdAt).slice(0, limit).map(copy);
    },
    async setRoles(id, roles) {
      const record = byId(id);
      if (record) record.roles = [...roles];
      return record !== undefined;
    },
    async setPassword(id, password) {
      const record = byId(id);
      if (record) record.password = password;
      return record !== undefined;
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
  const columns = "id, name, password_salt, password_hash, created_at, roles";

  /** @param {import("mysql2/promise").RowDataPacket} row @returns {UserRecord} */
  function record(row) {
    return {
      id: String(row.id),
      name: String(row.name),
      createdAt: Number(row.created_at),
      password: { salt: row.password_salt, hash: row.password_hash },
      roles: parseRoles(row.roles),
    };
  }

  /** @param {string} sql @param {(string | number)[]} values */
  async function select(sql, values) {
    const [rows] = /** @type {[import("mysql2/promise").RowDataPacket[], unknown]} */ (await pool.execute(sql, values));
    return rows.map(record);
  }

  /** @param {"id" | "name"} column @param {string} value @returns {Promise<UserRecord | null>} */
  async function findBy(column, value) {
    return (await select(`SELECT ${columns} FROM ${name} WHERE ${column} = ?`, [value]))[0] ?? null;
  }

  /** @param {string} sql @param {(string | Buffer)[]} values */
  async function update(sql, values) {
    const [result] = /** @type {[import("mysql2/promise").ResultSetHeader, unknown]} */ (await pool.execute(sql, values));
    return result.affectedRows > 0;
  }

  return {
    async init() {
      await pool.query(`CREATE TABLE IF NOT EXISTS ${name} (
        id CHAR(36) NOT NULL PRIMARY KEY,
        name VARCHAR(32) NOT NULL UNIQUE,
        password_salt VARBINARY(16) NOT NULL,
        password_hash VARBINARY(64) NOT NULL,
        created_at BIGINT NOT NULL,
        roles VARCHAR(255) NOT NULL DEFAULT '[]'
      )`);
      // A table made by an earlier version of the sample app has no roles yet.
      const [found] = /** @type {[import("mysql2/promise").RowDataPacket[], unknown]} */ (
        await pool.execute(
          "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'roles'",
          [table],
        )
      );
      if (found.length > 0) return;
      try {
        await pool.query(`ALTER TABLE ${name} ADD COLUMN roles VARCHAR(255) NOT NULL DEFAULT '[]'`);
      } catch (error) {
        // Another instance starting at the same time added it first.
        if (/** @type {{ code?: unknown }} */ (error).code !== "ER_DUP_FIELDNAME") throw error;
      }
    },
    async insert(record) {
      try {
        await pool.execute(`INSERT INTO ${name} (${columns}) VALUES (?, ?, ?, ?, ?, ?)`, [
          record.id,
          record.name,
          record.password.salt,
          record.password.hash,
          record.createdAt,
          JSON.stringify(record.roles),
        ]);
        return true;
      } catch (error) {
        if (/** @type {{ code?: unknown }} */ (error).code === "ER_DUP_ENTRY") return false;
        throw error;
      }
    },
    findByName: (value) => findBy("name", value),
    findById: (value) => findBy("id", value),
    // LIMIT takes no placeholder under every server's prepared statements: a checked integer instead.
    list: (limit) => select(`SELECT ${columns} FROM ${name} ORDER BY created_at, id LIMIT ${Math.max(0, Math.trunc(limit))}`, []),
    setRoles: (id, roles) => update(`UPDATE ${name} SET roles = ? WHERE id = ?`, [JSON.stringify(roles), id]),
    setPassword: (id, password) => update(`UPDATE ${name} SET password_salt = ?, password_hash = ? WHERE id = ?`, [password.salt, password.hash, id]),
  };
}

/** The stored JSON array of role names; anything else reads as no roles. @param {unknown} text @returns {string[]} */
function parseRoles(text) {
  try {
    const roles = JSON.parse(String(text));
    return Array.isArray(roles) ? roles.filter((role) => typeof role === "string") : [];
  } catch {
    return [];
  }
}

module.exports = { memoryUserTable, mysqlUserTable };
