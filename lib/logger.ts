/**
 * Where latchkey reports warnings, store faults and (with `debug`) every refusal.
 * Messages never contain a token, hash, key or password.
 */
export interface Logger {
  warn(message: string): void;
  error(message: string, error?: unknown): void;
  /** Refusal reasons with `debug: true`; falls back to `warn` when absent. */
  debug?(message: string): void;
}

const consoleLogger: Logger = {
  warn: (message) => console.warn(`latchkey: ${message}`),
  error: (message, error) => console.error(`latchkey: ${message}${describeCause(error)}`),
  debug: (message) => console.debug(`latchkey: ${message}`),
};

const silentLogger: Logger = { warn() {}, error() {}, debug() {} };

export function resolveLogger(logger: Logger | false | undefined): Logger {
  if (logger === false) return silentLogger;
  return logger ?? consoleLogger;
}

/** How often one kind of store fault is logged while it lasts. */
const FAULT_LOG_INTERVAL_MS = 30_000;
/** Warn-once keys remembered (refused origins): a flood of made-up origins cannot grow it. */
const MAX_ONCE_KEYS = 1000;
/** Kinds and causes of faults remembered for rate limiting; past it the oldest goes. */
const MAX_FAULT_KEYS = 1000;

/**
 * The logger as latchkey uses it: faults rate-limited (an outage is one line per kind
 * every 30 s with a count, not one per request), some warnings once per key, and
 * refusals only when `debug` is on.
 */
export class Diagnostics {
  readonly log: Logger;
  readonly debugging: boolean;
  readonly #once = new Set<string>();
  readonly #faults = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(logger: Logger, debugging: boolean) {
    this.log = logger;
    this.debugging = debugging;
  }

  debug(message: string): void {
    if (!this.debugging) return;
    if (this.log.debug) this.log.debug(message);
    else this.log.warn(message);
  }

  warnOnce(key: string, message: string): void {
    if (this.#once.has(key) || this.#once.size >= MAX_ONCE_KEYS) return;
    this.#once.add(key);
    this.log.warn(message);
  }

  /**
   * Logs a fault of this kind and cause now (as an error), unless one was logged in the
   * last 30 s. Keyed by the cause too (the driver's code, never its message), so a second,
   * different failure during an outage is not hidden behind the first.
   */
  fault(kind: string, message: string, error?: unknown): void {
    const line = this.#throttle(`${kind}\u0000${causeOf(error)}`, message);
    if (line !== undefined) this.log.error(line, error);
  }

  /** As {@link fault}, for a warning. */
  warnThrottled(kind: string, message: string): void {
    const line = this.#throttle(kind, message);
    if (line !== undefined) this.log.warn(line);
  }

  #throttle(kind: string, message: string): string | undefined {
    const now = Date.now();
    const last = this.#faults.get(kind);
    if (last && now - last.loggedAt < FAULT_LOG_INTERVAL_MS) {
      last.suppressed++;
      return undefined;
    }
    if (!last && this.#faults.size >= MAX_FAULT_KEYS) this.#faults.delete(this.#faults.keys().next().value as string);
    this.#faults.set(kind, { loggedAt: now, suppressed: 0 });
    const suppressed = last?.suppressed ?? 0;
    return suppressed > 0 ? `${message} (and ${suppressed} more like it in the last ${Math.round((now - (last?.loggedAt ?? now)) / 1000)} s)` : message;
  }
}

// The class of a failure, to tell causes apart: a code or number, never a message, which
// could carry anything the failing code put in it.
function causeOf(error: unknown): string {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
  if (typeof code === "string") return code;
  if (typeof errno === "number") return `errno ${errno}`;
  return error instanceof Error ? error.name : typeof error;
}

// Driver errors carry a code and a message about the connection, never our tokens
// (those travel only as placeholder values, which mysql2 does not echo).
function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return "";
  const code = (error as { code?: unknown }).code;
  return ` (${typeof code === "string" ? `${code}: ` : ""}${error.message})`;
}
