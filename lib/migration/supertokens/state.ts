import type { SessionManager } from "../../manager";
import type { ResolvedOptions } from "../../options/resolve";
import { MySqlStore } from "../../store/mysql";
import type { MySqlConnector } from "../../store/mysql-connection";
import type { SessionStore } from "../../store/store";
import { UNKNOWN_CORE_KEY, type CoreKeys } from "./access-token";
import { CoreTables } from "./core-tables";
import type { ResolvedMigration } from "./options";

// A core token naming a key not read yet re-reads the keys at most this often: a forged kid
// must not turn every request into a query.
const KEY_RELOAD_MS = 60_000;

/**
 * What one manager keeps for the migration: the core's tables on the store's own
 * connector (the core's tables sit in the same database), the refresh-token master key
 * (read once: the core never rotates it) and the core's public keys.
 */
export class CoreMigration {
  readonly options: ResolvedMigration;
  readonly tables: CoreTables;
  readonly db: MySqlConnector;
  /** latchkey's sessions table, quoted. */
  readonly sessionsTable: string;
  #masterKey: string | undefined;
  #masterKeyMissingAt = -Infinity;
  #keys: CoreKeys | undefined;
  #keysReadAt = -Infinity;

  constructor(options: ResolvedMigration, store: MySqlStore) {
    this.options = options;
    this.db = store.connector;
    this.tables = new CoreTables(this.db, options.tablePrefix);
    this.sessionsTable = `\`${store.tablePrefix}sessions\``;
  }

  /** `refresh_token_key`, cached once found; `undefined` while the core has none (latchkey never creates it). */
  async masterKey(now: number): Promise<string | undefined> {
    // A core that never made one is asked again at most once a minute: core-shaped junk must
    // not turn into a query per request.
    if (this.#masterKey === undefined && now - this.#masterKeyMissingAt >= KEY_RELOAD_MS) {
      this.#masterKey = await this.tables.masterKey();
      if (this.#masterKey === undefined) this.#masterKeyMissingAt = now;
    }
    return this.#masterKey;
  }

  /** The core's public keys; re-read when `reason` says a token named a key not among them (rate-limited). */
  async keys(now: number, reason?: string): Promise<CoreKeys> {
    const reload = this.#keys === undefined || (reason === UNKNOWN_CORE_KEY && now - this.#keysReadAt >= KEY_RELOAD_MS);
    if (reload) {
      this.#keysReadAt = now;
      this.#keys = await this.tables.publicKeys();
    }
    return this.#keys as CoreKeys;
  }
}

const STATES = new WeakMap<SessionManager, CoreMigration>();

/** The manager's migration state, or `undefined` when `migrateFromSuperTokens` is not set. */
export function coreMigration(manager: SessionManager): CoreMigration | undefined {
  const options = manager.options.migrateFromSuperTokens;
  if (options === undefined) return undefined;
  let state = STATES.get(manager);
  if (!state) {
    state = new CoreMigration(options, manager.store as MySqlStore);
    STATES.set(manager, state);
  }
  return state;
}

/** `migrateFromSuperTokens` needs the MySQL store: the core's tables are read in its database. */
export function checkMigrationStore(options: Pick<ResolvedOptions, "migrateFromSuperTokens">, store: SessionStore): void {
  if (options.migrateFromSuperTokens === undefined || store instanceof MySqlStore) return;
  throw new TypeError(
    "latchkey: option migrateFromSuperTokens needs the MySQL store on the database that holds the SuperTokens core's tables " +
      "(store: mysqlStore(uri) or LATCHKEY_DATABASE_URL); the in-memory store has no core sessions to move.",
  );
}
