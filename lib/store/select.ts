import { MemoryStore } from "./memory";
import { MySqlStore, type MySqlConnection } from "./mysql";
import type { SessionStore } from "./store";
import type { Logger } from "../logger";

let warnedAboutMemory = false;

/**
 * The store a middleware uses: the `store` option, else `LATCHKEY_DATABASE_URL`, else
 * the embedded memory store, which production refuses: sessions must never silently
 * live in one process's memory there.
 */
export function selectStore(option: SessionStore | MySqlConnection | undefined, logger: Logger): SessionStore {
  if (option !== undefined) return isSessionStore(option) ? option : new MySqlStore(option);
  const url = process.env.LATCHKEY_DATABASE_URL;
  if (url) return new MySqlStore(url);
  if (process.env.NODE_ENV === "production") {
    throw new TypeError(
      "latchkey: no session store is configured and NODE_ENV=production. " +
        "Set LATCHKEY_DATABASE_URL=mysql://user:password@host:3306/database, or pass the store option.",
    );
  }
  if (!warnedAboutMemory) {
    warnedAboutMemory = true;
    logger.warn(
      "no LATCHKEY_DATABASE_URL or store option: sessions live in this process's memory and end when it stops. " +
        "Fine for development; production refuses it.",
    );
  }
  return new MemoryStore();
}

function isSessionStore(value: unknown): value is SessionStore {
  if (value instanceof MemoryStore || value instanceof MySqlStore) return true;
  const candidate = value as Partial<SessionStore> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.createSession === "function" &&
    typeof candidate.updateSession === "function" &&
    typeof candidate.findSession === "function"
  );
}

/**
 * Builds an in-memory session store (development and tests only).
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware({ store: memoryStore() }));
 * ```
 */
export function memoryStore(): MemoryStore {
  return new MemoryStore();
}
