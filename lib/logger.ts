/**
 * Where latchkey reports warnings, store faults and (with `debug`) every refusal, as text.
 * Messages never contain a token, hash, key or password. For structured records, give a
 * {@link RecordLogger} instead.
 *
 * Inside latchkey every call may carry `fields`; a logger of this shape never sees them
 * (it receives exactly the strings it always did).
 */
export interface Logger {
  warn(message: string, fields?: LogFields): void;
  error(message: string, error?: unknown, fields?: LogFields): void;
  /** Refusal reasons with `debug: true`; falls back to `warn` when absent. */
  debug?(message: string, fields?: LogFields): void;
}

/**
 * What a log line is about, as fields for a structured logger: `code`, `handle`, `userId`,
 * `clientIp`, `method`, `path`, `operation`, `errorCode`... Never a token, hash or key.
 *
 * @example
 * ```ts
 * const fields: LogFields = { code: "UNAUTHORISED", method: "GET", path: "/api/me", clientIp: "203.0.113.7" };
 * ```
 */
export type LogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/**
 * One structured log line: its level and text, the fields it is about, and for errors the cause as `err`.
 *
 * @example
 * ```ts
 * const record: LogRecord = { level: "error", message: "could not refresh a session", operation: "updateSession", errorCode: "ECONNREFUSED" };
 * ```
 */
export interface LogRecord {
  level: "debug" | "warn" | "error";
  message: string;
  /** The error behind an `error` record (a driver error: its `code` and `message`, never a token). */
  err?: unknown;
  [field: string]: unknown;
}

/**
 * A logger that receives structured records instead of text: an object whose method is
 * `log(record)` and that has neither `warn` nor `error` (so `console`, winston and the like
 * keep receiving strings as before).
 *
 * @example
 * ```ts
 * import pino from "pino";
 * const log = pino();
 * app.use(sessionMiddleware({ logger: { log: (record) => log[record.level](record, record.message) } }));
 * ```
 */
export interface RecordLogger {
  log(record: LogRecord): void;
}

const consoleLogger: Logger = {
  warn: (message) => console.warn(`latchkey: ${message}`),
  error: (message, error) => console.error(`latchkey: ${message}${describeCause(error)}`),
  debug: (message) => console.debug(`latchkey: ${message}`),
};

const silentLogger: Logger = { warn() {}, error() {}, debug() {} };

/** True for a logger that wants records (see {@link RecordLogger}). */
export function isRecordLogger(logger: object): logger is RecordLogger {
  const candidate = logger as Partial<RecordLogger & Logger>;
  return typeof candidate.log === "function" && typeof candidate.warn !== "function" && typeof candidate.error !== "function";
}

export function resolveLogger(logger: Logger | RecordLogger | false | undefined): Logger {
  if (logger === false) return silentLogger;
  if (logger === undefined) return consoleLogger;
  if (isRecordLogger(logger)) return recordsTo(logger);
  // A text logger gets exactly the arguments it always got: a `console.warn` passed as
  // `warn` would otherwise print the fields object after the message.
  const text = logger;
  return {
    warn: (message) => text.warn(message),
    error: (message, error) => (error === undefined ? text.error(message) : text.error(message, error)),
    ...(text.debug ? { debug: (message: string) => text.debug?.(message) } : {}),
  };
}

function recordsTo(target: RecordLogger): Logger {
  const emit = (level: LogRecord["level"], message: string, fields: LogFields | undefined, error?: unknown) => {
    const record: LogRecord = { ...fields, level, message };
    if (error !== undefined) {
      record.err = error;
      const code = (error as { code?: unknown } | null)?.code;
      if (typeof code === "string" && record.errorCode === undefined) record.errorCode = code;
      const operation = storeOperationOf(error);
      if (operation !== undefined && record.operation === undefined) record.operation = operation;
    }
    target.log(record);
  };
  return {
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, error, fields) => emit("error", message, fields, error),
    debug: (message, fields) => emit("debug", message, fields),
  };
}

// The store call each driver error came from, remembered by the instrumented store, so a
// fault's record names its operation whichever code path logged it.
const storeOperations = new WeakMap<object, string>();

/** Remembers which store operation failed with `error` (see lib/instrumented-store.ts). */
export function rememberStoreOperation(error: unknown, operation: string): void {
  if (typeof error === "object" && error !== null && !storeOperations.has(error)) storeOperations.set(error, operation);
}

/** The store operation that failed with `error`, if the instrumented store saw it. */
export function storeOperationOf(error: unknown): string | undefined {
  return typeof error === "object" && error !== null ? storeOperations.get(error) : undefined;
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

  debug(message: string, fields?: LogFields): void {
    if (!this.debugging) return;
    if (this.log.debug) this.log.debug(message, fields);
    else this.log.warn(message, fields);
  }

  warnOnce(key: string, message: string, fields?: LogFields): void {
    if (this.#once.has(key) || this.#once.size >= MAX_ONCE_KEYS) return;
    this.#once.add(key);
    this.log.warn(message, fields);
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
