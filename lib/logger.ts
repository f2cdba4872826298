/**
 * Where latchkey reports warnings and store faults. Messages never contain a token,
 * hash, key or password.
 */
export interface Logger {
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

const consoleLogger: Logger = {
  warn: (message) => console.warn(`latchkey: ${message}`),
  error: (message, error) => console.error(`latchkey: ${message}${describeCause(error)}`),
};

const silentLogger: Logger = { warn() {}, error() {} };

export function resolveLogger(logger: Logger | false | undefined): Logger {
  if (logger === false) return silentLogger;
  return logger ?? consoleLogger;
}

// Driver errors carry a code and a message about the connection, never our tokens
// (those travel only as placeholder values, which mysql2 does not echo).
function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return "";
  const code = (error as { code?: unknown }).code;
  return ` (${typeof code === "string" ? `${code}: ` : ""}${error.message})`;
}
