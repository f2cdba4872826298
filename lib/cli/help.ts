/** The CLI's commands and options, and its help texts. */

export type CommandName = "migrate" | "sessions list" | "sessions revoke" | "sessions revoke-user" | "cleanup" | "keys list" | "keys rotate" | "supertokens status";

export interface CommandSpec {
  name: CommandName;
  /** The one positional argument, if the command takes one. */
  argument?: string;
  /** What `latchkey <command> --help` says about it. */
  about: string;
  /** The command's own options (name → help text), `json` included when it prints something. */
  options: Record<string, string>;
  /** What each exit code means for this command. */
  exits: string[];
}

/** Options that take a value, with its placeholder. */
export const VALUE_OPTIONS: Record<string, string> = {
  "table-prefix": "<prefix>",
  from: "<version>",
  limit: "<n>",
  cursor: "<cursor>",
  "core-prefix": "<prefix>",
};

/** Options every command takes. */
const COMMON: Record<string, string> = {
  "table-prefix": "table name prefix (default: LATCHKEY_TABLE_PREFIX, else latchkey_)",
  help: "show this help",
};

const UNUSABLE = "1  the database cannot be used: unreachable, refused, or no or outdated latchkey tables";
const USAGE_ERROR = "2  usage error, or a bad URL or table prefix";
const DATABASE = "Database: LATCHKEY_DATABASE_URL=mysql://user:password@host:3306/database.";

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: "migrate",
    about:
      "Creates latchkey's tables, or upgrades them to this version's schema; does nothing when they are\n" +
      "current. The only command that runs DDL: run it as a user allowed to create and alter tables.\n" +
      "With --print it prints the SQL instead and needs no database, for teams that apply DDL by hand.\n" +
      DATABASE,
    options: {
      print: "print the SQL of the whole schema instead of running it",
      from: "with --print: only the upgrade from schema <version> (0.1's is version 1)",
      json: 'print {"schemaVersion": n, "tablePrefix": "..."}',
    },
    exits: ["0  the schema is current, or the SQL was printed", "1  the database cannot be used: unreachable, refused, or DDL not allowed", USAGE_ERROR],
  },
  {
    name: "sessions list",
    argument: "<userId>",
    about:
      "Lists the user's live sessions (neither revoked nor expired), oldest first: handle, when each was\n" +
      "created, last refreshed and expires, and the IP address and user agent it was last refreshed\n" +
      "from (else those it was created from). Creates nothing.\n" +
      DATABASE,
    options: {
      limit: "at most <n> sessions (1 to 1000), then the cursor of the next page",
      cursor: "the page after the one that printed <cursor>",
      json: 'print {"sessions": [...], "nextCursor": "..." or null} (times in ms)',
    },
    exits: ["0  listed (also when there are none)", UNUSABLE, USAGE_ERROR],
  },
  {
    name: "sessions revoke",
    argument: "<handle>",
    about:
      "Revokes one session: its refresh token stops working at once and its access tokens within\n" +
      "about 2 s on every instance. Creates nothing.\n" +
      DATABASE,
    options: { json: 'print {"revoked": true} or {"revoked": false}' },
    exits: ["0  revoked", UNUSABLE, USAGE_ERROR, "3  no live session has that handle: nothing was revoked"],
  },
  {
    name: "sessions revoke-user",
    argument: "<userId>",
    about: "Revokes every session of the user (\"sign out everywhere\"). Creates nothing.\n" + DATABASE,
    options: { json: 'print {"revoked": [handles]}' },
    exits: ["0  revoked at least one session", UNUSABLE, USAGE_ERROR, "3  the user had no live session: nothing was revoked"],
  },
  {
    name: "cleanup",
    about:
      "Deletes expired sessions in batches of 1000 (printing progress on stderr), then signing keys\n" +
      "that can no longer verify anything and old claim invalidations. Creates nothing.\n" +
      DATABASE,
    options: { json: 'print {"sessions": n, "keys": n} (no progress)' },
    exits: ["0  done (also when there was nothing to delete)", UNUSABLE, USAGE_ERROR],
  },
  {
    name: "keys list",
    about:
      "Lists the signing keys, oldest first: kid, algorithm, when each signs from and until (UTC), and its\n" +
      "status: \"signs now\" (the one key that signs new tokens), \"published ahead\" (in every instance and\n" +
      "the JWKS already; signs from its time), \"superseded\" (a newer key signs; it still verifies) or\n" +
      "\"retired\" (it verifies the tokens it signed until they expire, then cleanup deletes it).\n" +
      "Never prints a key itself. Creates nothing.\n" +
      DATABASE,
    options: { json: 'print {"keys": [{"kid", "algorithm", "createdAt", "signsFrom", "signsUntil", "status"}], "signing": kid or null} (times in ms)' },
    exits: ["0  listed (also when there are none)", UNUSABLE, USAGE_ERROR],
  },
  {
    name: "keys rotate",
    about:
      "Publishes a new signing key now; it starts signing two key-reload intervals later, once every\n" +
      "instance has loaded it. Creates signing keys (and the server secret, on a database that has\n" +
      "none), never tables.\n" +
      DATABASE,
    options: { json: 'print {"kid": "...", "signsFrom": ms}' },
    exits: ["0  published", UNUSABLE, USAGE_ERROR],
  },
  {
    name: "supertokens status",
    about:
      "How far the move from SuperTokens core (option migrateFromSuperTokens) has come: how many core\n" +
      "sessions are still live in the core's session_info, and how many live latchkey sessions were moved\n" +
      "from it. When none is left in the core, the option can be removed. Reads only; creates nothing.\n" +
      DATABASE,
    options: {
      "core-prefix": "the core's mysql_table_names_prefix, as in migrateFromSuperTokens.tablePrefix (default: none)",
      json: 'print {"coreLive": n, "migrated": n}',
    },
    exits: ["0  counted", "1  the database cannot be used, or the core's tables are not there", USAGE_ERROR],
  },
];

export const USAGE = `Usage: latchkey <command> [options]

Commands:
  migrate                         create or upgrade latchkey's tables (the only command that runs DDL)
  migrate --print [--from <v>]    print the SQL instead: the whole schema, or the upgrade from version v
  sessions list <userId>          a user's live sessions, with device metadata
  sessions revoke <handle>        revoke one session
  sessions revoke-user <userId>   revoke every session of a user ("sign out everywhere")
  cleanup                         delete expired sessions and retired signing keys, in batches
  keys list                       the signing keys: which signs now, which are published ahead or retired
  keys rotate                     publish a new signing key now (it signs once every instance has it)
  supertokens status              SuperTokens core sessions still live, and how many moved to latchkey
  help [<command>]                this help, or a command's (as latchkey <command> --help)

Options:
  --table-prefix <prefix>         ${COMMON["table-prefix"]}
  --json                          machine-readable output on stdout; errors stay text on stderr
  -h, --help                      show help (after a command: that command's)
  --version                       print latchkey's version

Environment:
  LATCHKEY_DATABASE_URL           mysql://user:password@host:3306/database (not needed for migrate --print)
  LATCHKEY_TABLE_PREFIX           table name prefix, the same as for sessionMiddleware() and sessionManager()

Exit codes:
  0  success
  ${UNUSABLE}
  ${USAGE_ERROR}
  3  a revoke that revoked nothing

Only migrate creates or alters tables; no other command ever does.
`;

/** `latchkey <command> --help`. */
export function commandHelp(command: CommandSpec): string {
  const options = { ...command.options, ...COMMON };
  return `Usage: latchkey ${signature(command)} [options]

${command.about}

Options:
${Object.entries(options)
  .map(([name, text]) => row(name === "help" ? "-h, --help" : `--${name}${VALUE_OPTIONS[name] ? ` ${VALUE_OPTIONS[name]}` : ""}`, text))
  .join("\n")}

Exit codes:
${command.exits.map((line) => `  ${line}`).join("\n")}
`;
}

function signature(command: CommandSpec): string {
  return command.argument ? `${command.name} ${command.argument}` : command.name;
}

function row(left: string, right: string): string {
  return `  ${left.padEnd(30)}  ${right}`;
}
