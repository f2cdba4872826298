/**
 * The MySQL schema as numbered migrations, applied in order by `init()` or by
 * `npx latchkey migrate`. A migration that another instance applied a moment earlier is
 * recognised by the error its statement gets (the column or table exists) and skipped,
 * so instances that migrate at once, or a migration interrupted half way, are harmless.
 *
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
  {
    // 0.2: lineage theft detection, unknown outcomes, per-login lifetimes, freshness,
    // the presenting client, paged listing by user, claim invalidation.
    version: 2,
    statements: (p) => [
      `ALTER TABLE \`${p}sessions\`
  ADD COLUMN lineage_hash BINARY(32) NULL AFTER prev_refresh_token_hash,
  ADD COLUMN undelivered BOOLEAN NOT NULL DEFAULT FALSE AFTER rotated_at,
  ADD COLUMN auth_time BIGINT NULL AFTER last_refreshed_at,
  ADD COLUMN idle_ttl BIGINT NULL AFTER absolute_expires_at,
  ADD COLUMN persistent BOOLEAN NOT NULL DEFAULT TRUE AFTER idle_ttl,
  ADD COLUMN last_ip VARCHAR(64) NULL AFTER user_agent,
  ADD COLUMN last_user_agent VARCHAR(512) NULL AFTER last_ip,
  ADD KEY \`${p}sessions_user_created\` (user_id, created_at),
  DROP KEY \`${p}sessions_user_id\``,
      `CREATE TABLE IF NOT EXISTS \`${p}claim_invalidations\` (
  user_id VARBINARY(1020) NOT NULL,
  claim_key VARBINARY(256) NOT NULL,
  invalidated_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, claim_key),
  KEY \`${p}claim_invalidations_at\` (invalidated_at)
) ${TABLE_OPTIONS}`,
    ],
  },
];

/** Latest schema version this package knows. */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** Every table latchkey owns, without the prefix. */
export const TABLES = ["sessions", "signing_keys", "secrets", "claim_invalidations", "schema_version"] as const;

export function schemaVersionTable(prefix: string): string {
  return `CREATE TABLE IF NOT EXISTS \`${prefix}schema_version\` (
  version INT NOT NULL,
  applied_at BIGINT NOT NULL,
  PRIMARY KEY (version)
) ${TABLE_OPTIONS}`;
}

/**
 * The schema as one SQL script, for teams that apply DDL by hand: the whole schema, or
 * with `fromVersion` only what upgrades a database at that version.
 */
export function schemaSql(prefix: string, fromVersion = 0): string {
  const lines = fromVersion === 0 ? [schemaVersionTable(prefix) + ";"] : [];
  for (const migration of MIGRATIONS) {
    if (migration.version <= fromVersion) continue;
    for (const statement of migration.statements(prefix)) lines.push(statement + ";");
    lines.push(`INSERT IGNORE INTO \`${prefix}schema_version\` (version, applied_at) VALUES (${migration.version}, 0);`);
  }
  return lines.join("\n\n") + "\n";
}
