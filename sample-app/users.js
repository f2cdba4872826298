// @ts-check
// The app's own accounts: sign-up, log-in, the seeded demo user, password changes and
// roles. Where they are kept is a table's business (user-tables.js): MySQL beside
// latchkey's tables, or memory.
const crypto = require("node:crypto");
const { hashPassword, verifyPassword } = require("./passwords");

/** The account `npm start` seeds and prints. */
const DEMO = Object.freeze({ name: "demo", password: "latchkey-demo" });

const NAME = /^[a-z0-9][a-z0-9._-]{2,31}$/;
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 256;

/** The one role this app knows: it opens the admin page. */
const ADMIN = "admin";
/** How many accounts the admin page lists. */
const LIST_LIMIT = 50;

/**
 * @typedef {{ id: string, name: string, createdAt: number, roles: string[] }} User
 * @typedef {User & { password: import("./passwords").PasswordHash }} UserRecord
 * @typedef {object} UserTable
 * @property {() => Promise<void>} init creates the table when missing (and adds columns a newer app needs)
 * @property {(record: UserRecord) => Promise<boolean>} insert resolves `false` when the name is taken
 * @property {(name: string) => Promise<UserRecord | null>} findByName
 * @property {(id: string) => Promise<UserRecord | null>} findById
 * @property {(limit: number) => Promise<UserRecord[]>} list the oldest accounts first
 * @property {(id: string, roles: string[]) => Promise<boolean>} setRoles resolves `false` when there is no such account
 * @property {(id: string, password: import("./passwords").PasswordHash) => Promise<boolean>} setPassword resolves `false` when there is no such account
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
    const problem = passwordProblem(password);
    if (problem) return { error: problem, status: 400 };
    const record = { id: crypto.randomUUID(), name, createdAt: Date.now(), roles: [], password: await hashPassword(String(password)) };
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

  /**
   * Whether `password` is the account's current one (a re-authentication).
   * @param {string} id @param {unknown} password
   */
  async checkPassword(id, password) {
    if (typeof password !== "string" || password.length > MAX_PASSWORD) return false;
    const record = await this.#table.findById(id);
    return record !== null && (await verifyPassword(password, record.password));
  }

  /**
   * @param {string} id
   * @param {unknown} password the new password
   * @returns {Promise<{ ok: true } | { error: string, status: 400 | 403 | 404 }>}
   */
  async changePassword(id, password) {
    const problem = passwordProblem(password);
    if (problem) return { error: problem, status: 400 };
    const record = await this.#table.findById(id);
    if (!record) return { error: "That account no longer exists.", status: 404 };
    if (record.name === DEMO.name) {
      // The app prints these credentials at start-up: they must keep working for everyone.
      return { error: `The demo account keeps its password (${DEMO.password}) so that everyone can log in. Sign up to change a password of your own.`, status: 403 };
    }
    if (await verifyPassword(String(password), record.password)) {
      return { error: "That is your current password. Choose a new one.", status: 400 };
    }
    if (!(await this.#table.setPassword(id, await hashPassword(String(password))))) return { error: "That account no longer exists.", status: 404 };
    return { ok: true };
  }

  /** @param {string} id @returns {Promise<User | null>} */
  async get(id) {
    const record = await this.#table.findById(id);
    return record ? publicUser(record) : null;
  }

  /** The accounts the admin page lists, oldest first. @returns {Promise<User[]>} */
  async list() {
    return (await this.#table.list(LIST_LIMIT)).map(publicUser);
  }

  /** The account's roles; none for an unknown one. What the session's role claim fetches. @param {string} id */
  async roles(id) {
    return (await this.#table.findById(id))?.roles ?? [];
  }

  /**
   * Grants or withdraws the admin role; resolves to the account's roles, or `null` when
   * there is no such account.
   * @param {string} id @param {boolean} admin
   */
  async setAdmin(id, admin) {
    const record = await this.#table.findById(id);
    if (!record) return null;
    const roles = record.roles.filter((role) => role !== ADMIN);
    if (admin) roles.push(ADMIN);
    return (await this.#table.setRoles(id, roles)) ? roles : null;
  }
}

/** Why `password` cannot be a new password, or `undefined`. @param {unknown} password */
function passwordProblem(password) {
  if (typeof password !== "string" || password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    return `Choose a password of ${MIN_PASSWORD} to ${MAX_PASSWORD} characters.`;
  }
  return undefined;
}

/** @param {unknown} name */
function normalizeName(name) {
  return typeof name === "string" ? name.trim().toLowerCase() : "";
}

/** @param {UserRecord} record @returns {User} */
function publicUser({ id, name, createdAt, roles }) {
  return { id, name, createdAt, roles: [...roles] };
}

module.exports = { Users, DEMO, ADMIN };
