#!/usr/bin/env node
import { readFileSync } from "node:fs";
import path from "node:path";
import { printSchema, runCommand, type Output } from "./cli/commands";
import { describeFailure } from "./cli/failure";
import { commandHelp, USAGE } from "./cli/help";
import { parse, tablePrefix, UsageError, type Invocation } from "./cli/parse";
import { sessionManager } from "./management";
import { MySqlStore } from "./store/mysql";

export interface CliIo extends Output {
  env: NodeJS.ProcessEnv;
}

/**
 * Runs one CLI command; resolves to the process exit code: 0 success, 1 the database
 * cannot be used, 2 a usage error or a bad URL or prefix, 3 a revoke that revoked nothing.
 */
export async function main(argv: string[], io: CliIo): Promise<number> {
  let invocation: Invocation;
  let prefix: string;
  try {
    invocation = parse(argv);
    if (invocation.version) {
      io.out(`${packageVersion()}\n`);
      return 0;
    }
    if (invocation.help || !invocation.command) {
      const help = invocation.command ? commandHelp(invocation.command) : USAGE;
      (invocation.help ? io.out : io.err)(help);
      return invocation.help ? 0 : 2;
    }
    prefix = tablePrefix(invocation, io.env);
    if (invocation.options.has("print")) return printSchema(invocation, prefix, io);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const command = error.command ? `${error.command.name} ` : "";
    io.err(`latchkey: ${error.message}\nRun \`latchkey ${command}--help\` for usage.\n`);
    return 2;
  }

  const { command } = invocation;
  const url = io.env.LATCHKEY_DATABASE_URL;
  if (!url) {
    io.err("latchkey: set LATCHKEY_DATABASE_URL=mysql://user:password@host:3306/database.\n");
    return 2;
  }
  let store: MySqlStore;
  try {
    // Only migrate runs DDL: every other command fails on missing or old tables instead.
    store = new MySqlStore(url, { tablePrefix: prefix, migrate: command.name === "migrate" });
  } catch (error) {
    io.err(`latchkey: ${describeFailure(error, { url, prefix }).message}\n`);
    return 2;
  }
  const manager = sessionManager({ store, logger: false, cleanupInterval: false });
  try {
    return await runCommand(command.name, { store, manager, argument: invocation.argument ?? "", invocation, io });
  } catch (error) {
    const failure = describeFailure(error, { url, prefix });
    io.err(`latchkey: ${failure.message}\n`);
    return failure.exitCode;
  } finally {
    await manager.close().catch(() => {});
  }
}

/** The version in package.json, next to dist/ (in this repository and in an installed package). */
function packageVersion(): string {
  const file = path.join(__dirname, "..", "package.json");
  return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`latchkey: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
