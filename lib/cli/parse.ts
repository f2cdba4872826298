import { SCHEMA_VERSION } from "../store/schema";
import { COMMANDS, VALUE_OPTIONS, type CommandSpec } from "./help";

/** A mistake in how the CLI was called: exit 2. */
export class UsageError extends Error {
  /** The command whose help explains it, if one was recognised. */
  readonly command: CommandSpec | undefined;

  constructor(message: string, command?: CommandSpec) {
    super(message);
    this.command = command;
  }
}

export interface Invocation {
  /** `undefined` for plain `latchkey --help` (or `latchkey help`). */
  command: CommandSpec | undefined;
  argument: string | undefined;
  /** Options given, by name without the dashes: a string for those with a value, else `true`. */
  options: Map<string, string | true>;
  help: boolean;
  version: boolean;
}

const FLAGS = new Set(["json", "print", "help", "version"]);
const GLOBAL = new Set(["table-prefix", "json", "help", "version"]);
const GROUPS = new Set(COMMANDS.map((command) => command.name.split(" ")[0] as string));

/** Parses argv (options anywhere, `--name value` or `--name=value`, `--` ends options). */
export function parse(argv: readonly string[]): Invocation {
  const words: string[] = [];
  const options = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--") {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") options.set("help", true);
    else if (arg.startsWith("--")) {
      const [name, inline] = splitOption(arg.slice(2));
      if (FLAGS.has(name)) {
        if (inline !== undefined) throw new UsageError(`--${name} takes no value.`);
        options.set(name, true);
      } else if (name in VALUE_OPTIONS) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value: --${name} ${VALUE_OPTIONS[name]}.`);
        options.set(name, value);
      } else throw new UsageError(`unknown option ${arg}.`);
    } else if (arg.startsWith("-") && arg.length > 1) throw new UsageError(`unknown option ${arg}.`);
    else words.push(arg);
  }

  if (options.has("version")) return { command: undefined, argument: undefined, options, help: false, version: true };
  let help = options.has("help");
  if (words[0] === "help") {
    help = true;
    words.shift();
  }
  const command = findCommand(words);
  if (!command) {
    // `latchkey sessions --help`: the group has no help of its own; the full usage lists it.
    if (words.length === 0 || (help && words.length === 1 && GROUPS.has(words[0] as string))) {
      return { command: undefined, argument: undefined, options, help, version: false };
    }
    throw new UsageError(`unknown command "${words.join(" ")}".`);
  }
  const rest = words.slice(command.name.split(" ").length);
  if (help) return { command, argument: undefined, options, help, version: false };

  for (const name of options.keys()) {
    if (!GLOBAL.has(name) && !(name in command.options)) throw new UsageError(`${command.name} takes no --${name} option.`, command);
  }
  if (command.argument ? rest.length !== 1 : rest.length !== 0) {
    throw new UsageError(
      command.argument ? `${command.name} takes exactly one argument, ${command.argument}.` : `${command.name} takes no argument.`,
      command,
    );
  }
  const invocation: Invocation = { command, argument: rest[0], options, help: false, version: false };
  wholeNumber(invocation, "limit", 1, 1000);
  wholeNumber(invocation, "from", 0, SCHEMA_VERSION, "; 0.1's schema is version 1");
  if (options.has("from") && !options.has("print")) throw new UsageError("--from goes with --print.", command);
  if (options.has("print") && options.has("json")) throw new UsageError("migrate --print prints SQL, not JSON.", command);
  return invocation;
}

/** The table prefix: `--table-prefix`, else LATCHKEY_TABLE_PREFIX (when not empty, as the library reads it), else latchkey_. */
export function tablePrefix(invocation: Invocation, env: NodeJS.ProcessEnv): string {
  const flag = invocation.options.get("table-prefix");
  const [prefix, source] = typeof flag === "string" ? [flag, "--table-prefix"] : [env.LATCHKEY_TABLE_PREFIX || "latchkey_", "LATCHKEY_TABLE_PREFIX"];
  if (!/^[A-Za-z0-9_]{0,40}$/.test(prefix)) {
    throw new UsageError(`${source} must be up to 40 letters, digits or underscores (got ${JSON.stringify(prefix)}).`, invocation.command);
  }
  return prefix;
}

// A numeric option is checked before any connection is made; commands read it with Number().
function wholeNumber(invocation: Invocation, name: string, min: number, max: number, note = ""): void {
  const value = invocation.options.get(name);
  if (typeof value !== "string") return;
  const number = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= min && number <= max)) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(value)})${note}.`, invocation.command);
  }
}

function findCommand(words: string[]): CommandSpec | undefined {
  return COMMANDS.find((command) => command.name.split(" ").every((word, i) => words[i] === word));
}

function splitOption(text: string): [string, string | undefined] {
  const equals = text.indexOf("=");
  return equals === -1 ? [text, undefined] : [text.slice(0, equals), text.slice(equals + 1)];
}
