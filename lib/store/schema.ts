/**
 * The MySQL schema as numbered migrations. Each statement is idempotent, so two
 * instances migrating at once, or a migration interrupted half way, are harmless.
 * Times are BIGINT milliseconds (no time-zone surprises). User ids are VARBINARY (255
 * characters of UTF-8) so they compare byte-exact: "Alice" is not "alice", and, unlike
 * any PAD SPACE collation, "bob " is not "bob".
 */
export interface Migration {
  version: number;
  statements: (prefix: string) => string[];
}

const TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: (p) => [
      `CREATE TABLE IF NOT EXISTS \`${p}sessions\` (
  session_handle VARCHAR(64) NOT NULL,
  user_id VARBINARY(1020) NOT NULL,
  refresh_token_hash BINARY(32) NOT NULL,
  prev_refresh_token_hash BINARY(32) NULL,
  rotated_at BIGINT NULL,
  access_token_payload JSON NOT NULL,
  session_data JSON NOT NULL,
  created_at BIGINT NOT NULL,
  last_refreshed_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  absolute_expires_at BIGINT NOT NULL,
  revoked_at BIGINT NULL,
  ip VARCHAR(64) NULL,
  user_agent VARCHAR(512) NULL,
  PRIMARY KEY (session_handle),
  KEY \`${p}sessions_user_id\` (user_id),
  KEY \`${p}sessions_expires_at\` (expires_at),
  KEY \`${p}sessions_revoked_at\` (revoked_at)
) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS \`${p}signing_keys\` (
  kid VARCHAR(64) NOT NULL,
  algorithm VARCHAR(16) NOT NULL,
  public_key TEXT NOT NULL,
  private_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  signs_from BIGINT NOT NULL,
  signs_until BIGINT NOT NULL,
  PRIMARY KEY (kid)
) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS \`${p}secrets\` (
  name VARCHAR(64) NOT NULL,
  value VARBINARY(64) NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (name)
) ${TABLE_OPTIONS}`,
    ],
  },
];

/** Latest schema version this package knows. */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

export function schemaVersionTable(prefix: string): string {
  return `CREATE TABLE IF NOT EXISTS \`${prefix}schema_version\` (
  version INT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (version)
) ${TABLE_OPTIONS}`;
}

/** The whole schema as one SQL script, for teams that apply DDL by hand. */
export function schemaSql(prefix: string): string {
  const lines = [schemaVersionTable(prefix) + ";"];
  for (const migration of MIGRATIONS) {
    for (const statement of migration.statements(prefix)) lines.push(statement + ";");
    lines.push(`INSERT IGNORE INTO \`${prefix}schema_version\` (version, applied_at) VALUES (${migration.version}, 0);`);
  }
  return lines.join("\n\n") + "\n";
}
