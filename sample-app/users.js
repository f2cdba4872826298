// @ts-check
// The app's own accounts: sign-up, log-in and the seeded demo user. Where they are kept
// is a table's business (user-tables.js): MySQL beside latchkey's tables, or memory.
const crypto = require("node:crypto");
const { hashPassword, verifyPassword } = require("./passwords");

/** The account `npm start` seeds and prints. */
const DEMO = Object.freeze({ name: "demo", password: "latchkey-demo" });

const NAME = /^[a-z0-9][a-z0-9._-]{2,31}$/;
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 256;

/**
 * @typedef {{ id: string, name: string, createdAt: number }} User
 * @typedef {User & { password: import("./passwords").PasswordHash }} UserRecord
 * @typedef {object} UserTable
 * @property {() => Promise<void>} init creates the table when missing
 * @property {(record: UserRecord) => Promise<boolean>} insert resolves `false` when the name is taken
 * @property {(name: string) => Promise<UserRecord | null>} findByName
 * @property {(id: string) => Promise<UserRecord | null>} findById
 */

class Users {
  /** @type {UserTable} */
  #table;
  /** @type {Promise<import("./passwords").PasswordHash> | undefined} */
  #decoy;

  /** @param {UserTable} table */
  constructor(table) {
    this.#table = table;
  }

  /** Creates the table, and the demo user when it is missing. */
  async init() {
    await this.#table.init();
    if (!(await this.#table.findByName(DEMO.name))) await this.signUp(DEMO.name, DEMO.password);
  }

  /**
   * @param {unknown} rawName
   * @param {unknown} password
   * @returns {Promise<{ user: User } | { error: string, status: 400 | 409 }>}
   */
  async signUp(rawName, password) {
    const name = normalizeName(rawName);
    if (!NAME.test(name)) {
      return { error: "Choose a user name of 3 to 32 letters, digits, dots, dashes or underscores.", status: 400 };
    }
    if (typeof password !== "string" || password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
      return { error: `Choose a password of ${MIN_PASSWORD} to ${MAX_PASSWORD} characters.`, status: 400 };
    }
    const record = { id: crypto.randomUUID(), name, createdAt: Date.now(), password: await hashPassword(password) };
    if (!(await this.#table.insert(record))) return { error: "That user name is taken. Pick another one.", status: 409 };
    return { user: publicUser(record) };
  }

  /**
   * @param {unknown} rawName
   * @param {unknown} password
   * @returns {Promise<User | null>} `null` alike for an unknown name and a wrong password
   */
  async logIn(rawName, password) {
    if (typeof password !== "string" || password.length > MAX_PASSWORD) return null;
    const record = await this.#table.findByName(normalizeName(rawName));
    // An unknown name is checked against a decoy hash, so it takes as long as a known one.
    this.#decoy ??= hashPassword(crypto.randomBytes(32).toString("base64url"));
    const matches = await verifyPassword(password, record?.password ?? (await this.#decoy));
    return record && matches ? publicUser(record) : null;
  }

  /** @param {string} id @returns {Promise<User | null>} */
  async get(id) {
    const record = await this.#table.findById(id);
    return record ? publicUser(record) : null;
  }
}

/** @param {unknown} name */
function normalizeName(name) {
  return typeof name === "string" ? name.trim().toLowerCase() : "";
}

/** @param {UserRecord} record @returns {User} */
function publicUser({ id, name, createdAt }) {
  return { id, name, createdAt };
}

module.exports = { Users, DEMO };
