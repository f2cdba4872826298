#!/usr/bin/env node
import { SessionError, storeUnavailable } from "./errors";
import { sessionManager, type SessionManagement } from "./middleware/session";
import { MySqlStore, redactUri } from "./store/mysql";
import { schemaSql, SCHEMA_VERSION } from "./store/schema";

const USAGE = `Usage: latchkey <command> [options]

Commands:
  migrate [--print]               create or update latchkey's tables (--print: only print the SQL)
  sessions list <userId>          a user's live sessions, with device metadata
  sessions revoke <handle>        revoke one session
  sessions revoke-user <userId>   revoke every session of a user ("sign out everywhere")
  cleanup                         delete expired sessions and retired signing keys, in batches
  keys rotate                     publish a new signing key now (it signs once every instance has it)

Options:
  --table-prefix <prefix>         table name prefix (default: LATCHKEY_TABLE_PREFIX, else latchkey_)
  --json                          machine-readable output
  -h, --help                      show this help

Environment:
  LATCHKEY_DATABASE_URL           mysql://user:password@host:3306/database (not needed for migrate --print)
`;

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

interface Parsed {
  words: string[];
  flags: Set<string>;
  prefix: string;
}

/** Runs one CLI command; resolves to the process exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parse(argv, io.env);
  } catch (error) {
    io.err(`latchkey: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { words, flags, prefix } = parsed;
  if (flags.has("help") || words.length === 0) {
    (words.length === 0 && !flags.has("help") ? io.err : io.out)(USAGE);
    return flags.has("help") ? 0 : 2;
  }
  const command = words.join(" ");
  if (command === "migrate" && flags.has("print")) {
    io.out(schemaSql(prefix));
    return 0;
  }
  const known = ["migrate", "sessions list", "sessions revoke", "sessions revoke-user", "cleanup", "keys rotate"];
  const name = known.find((candidate) => command === candidate || command.startsWith(`${candidate} `));
  if (!name) {
    io.err(`latchkey: unknown command "${command}".\n\n${USAGE}`);
    return 2;
  }
  const argument = command.slice(name.length).trim();
  const needsArgument = name.startsWith("sessions ");
  if (needsArgument !== (argument.length > 0) || argument.includes(" ")) {
    io.err(`latchkey: ${name} ${needsArgument ? "takes exactly one argument" : "takes no argument"}.\n\n${USAGE}`);
    return 2;
  }

  const url = io.env.LATCHKEY_DATABASE_URL;
  if (!url) {
    io.err("latchkey: set LATCHKEY_DATABASE_URL=mysql://user:password@host:3306/database.\n");
    return 2;
  }
  let store: MySqlStore;
  try {
    store = new MySqlStore(url, { tablePrefix: prefix });
  } catch (error) {
    io.err(`${(error as Error).message}\n`);
    return 2;
  }
  const manager = sessionManager({ store, logger: false, cleanupInterval: false });
  try {
    await run(name, argument, { store, manager, json: flags.has("json"), io });
    return 0;
  } catch (error) {
    io.err(`${describeFailure(error, url)}\n`);
    return 1;
  } finally {
    await manager.close().catch(() => {});
  }
}

async function run(
  name: string,
  argument: string,
  context: { store: MySqlStore; manager: SessionManagement; json: boolean; io: CliIo },
): Promise<void> {
  const { store, manager, json, io } = context;
  const print = (value: unknown, text: string) => io.out(json ? `${JSON.stringify(value, null, 2)}\n` : text);
  switch (name) {
    case "migrate": {
      await store.init().catch((error: unknown) => {
        throw storeUnavailable(error);
      });
      print({ schemaVersion: SCHEMA_VERSION }, `latchkey: schema is at version ${SCHEMA_VERSION}.\n`);
      return;
    }
    case "sessions list": {
      const sessions = await manager.listSessions(argument);
      const rows = sessions.map((s) =>
        [s.handle, iso(s.createdAt), iso(s.lastRefreshedAt), iso(s.expiresAt), s.ip ?? "-", s.userAgent ?? "-"].join("  "),
      );
      print(sessions, sessions.length === 0 ? `No live sessions for ${argument}.\n` : `handle  created  last refreshed  expires  ip  user agent\n${rows.join("\n")}\n`);
      return;
    }
    case "sessions revoke": {
      const revoked = await manager.revokeSession(argument);
      print({ revoked }, revoked ? `Revoked session ${argument}.\n` : `No live session ${argument}; nothing revoked.\n`);
      return;
    }
    case "sessions revoke-user": {
      const handles = await manager.revokeAllSessionsForUser(argument);
      print({ revoked: handles }, `Revoked ${handles.length} session(s) of ${argument}.\n`);
      return;
    }
    case "cleanup": {
      const result = await manager.cleanup({
        batchSize: 1000,
        onProgress: (deleted) => {
          if (!json) io.err(`deleted ${deleted} expired sessions...\n`);
        },
      });
      print(result, `Deleted ${result.sessions} expired session(s) and ${result.keys} retired signing key(s).\n`);
      return;
    }
    case "keys rotate": {
      const key = await manager.rotateKeys();
      print(key, `Published signing key ${key.kid}; it signs from ${iso(key.signsFrom)}.\n`);
      return;
    }
  }
}

function parse(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const words: string[] = [];
  const flags = new Set<string>();
  let prefix = env.LATCHKEY_TABLE_PREFIX ?? "latchkey_";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "-h" || arg === "--help") flags.add("help");
    else if (arg === "--print" || arg === "--json") flags.add(arg.slice(2));
    else if (arg === "--table-prefix") {
      const value = argv[++i];
      if (value === undefined) throw new Error("--table-prefix needs a value");
      prefix = value;
    } else if (arg.startsWith("-")) throw new Error(`unknown option ${arg}`);
    else words.push(arg);
  }
  return { words, flags, prefix };
}

function describeFailure(error: unknown, url: string): string {
  if (error instanceof SessionError && error.code === "STORE_UNAVAILABLE") {
    const cause = error.cause as { code?: string; message?: string } | undefined;
    const detail = cause ? ` (${[cause.code, cause.message].filter(Boolean).join(": ")})` : "";
    return `latchkey: cannot use the database at ${redactUri(url)}${detail}.`;
  }
  if (error instanceof TypeError) return error.message;
  return `latchkey: ${(error as Error).message ?? String(error)}`;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
  }).then((code) => {
    process.exitCode = code;
  });
}
