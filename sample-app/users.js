// @ts-check
// The sample app's own users: in MySQL when LATCHKEY_DATABASE_URL is set, else in memory.
// Passwords are kept only as scrypt hashes with a per-user salt, compared in constant time.
const crypto = require("node:crypto");
const { promisify } = require("node:util");
const mysql = require("mysql2/promise");

const scrypt = /** @type {(password: string, salt: Buffer, keylen: number) => Promise<Buffer>} */ (promisify(crypto.scrypt));

/** @typedef {{ id: string, email: string, name: string, salt: Buffer, hash: Buffer }} User */

/** @param {string} password */
async function hashPassword(password) {
  const salt = crypto.randomBytes(16);
  return { salt, hash: await scrypt(password, salt, 32) };
}

/** @param {User | undefined} user @param {string} password */
async function passwordMatches(user, password) {
  // Hash even for unknown users, so timing does not tell which emails exist.
  const salt = user?.salt ?? Buffer.alloc(16);
  const hash = await scrypt(password, salt, 32);
  return user !== undefined && crypto.timingSafeEqual(hash, user.hash);
}

class MemoryUsers {
  /** @type {Map<string, User>} */
  #byEmail = new Map();
  async init() {}
  /** @param {string} email */
  async find(email) {
    return this.#byEmail.get(email);
  }
  /** @param {User} user */
  async insert(user) {
    if (this.#byEmail.has(user.email)) return false;
    this.#byEmail.set(user.email, user);
    return true;
  }
}

class MySqlUsers {
  /** @param {string} url */
  constructor(url) {
    this.pool = mysql.createPool({ uri: url, connectionLimit: 4 });
  }
  async init() {
    await this.pool.query(`CREATE TABLE IF NOT EXISTS sample_users (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      email VARCHAR(255) NOT NULL UNIQUE,
      name VARCHAR(255) NOT NULL,
      salt VARBINARY(16) NOT NULL,
      hash VARBINARY(32) NOT NULL
    ) DEFAULT CHARSET=utf8mb4`);
  }
  /** @param {string} email @returns {Promise<User | undefined>} */
  async find(email) {
    const [rows] = /** @type {[any[], unknown]} */ (await this.pool.execute("SELECT id, email, name, salt, hash FROM sample_users WHERE email = ?", [email]));
    return rows[0];
  }
  /** @param {User} user */
  async insert(user) {
    const [result] = /** @type {[{ affectedRows: number }, unknown]} */ (
      await this.pool.execute("INSERT IGNORE INTO sample_users (id, email, name, salt, hash) VALUES (?, ?, ?, ?, ?)", [user.id, user.email, user.name, user.salt, user.hash])
    );
    return result.affectedRows === 1;
  }
}

/**
 * @param {string | undefined} url
 * @returns {Promise<{ find(email: string): Promise<User | undefined>, insert(user: User): Promise<boolean>, signUp(email: string, name: string, password: string): Promise<User | undefined>, logIn(email: string, password: string): Promise<User | undefined> }>}
 */
async function createUsers(url) {
  const store = url ? new MySqlUsers(url) : new MemoryUsers();
  await store.init();
  const users = {
    find: (/** @type {string} */ email) => store.find(email),
    insert: (/** @type {User} */ user) => store.insert(user),
    /** @param {string} email @param {string} name @param {string} password */
    async signUp(email, name, password) {
      const user = { id: crypto.randomUUID(), email, name, ...(await hashPassword(password)) };
      return (await store.insert(user)) ? user : undefined;
    },
    /** @param {string} email @param {string} password */
    async logIn(email, password) {
      const user = await store.find(email);
      return (await passwordMatches(user, password)) ? user : undefined;
    },
  };
  return users;
}

module.exports = { createUsers };
