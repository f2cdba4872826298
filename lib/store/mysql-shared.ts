import type { ResultSetHeader, RowDataPacket } from "mysql2/promise";
import type { MySqlConnector } from "./mysql-connection";
import { text } from "./mysql-rows";
import type { ClaimInvalidation, SessionStore, SigningKeyRecord } from "./store";

type SharedStatements = Pick<
  SessionStore,
  "invalidateClaim" | "listClaimInvalidationsSince" | "deleteClaimInvalidations" | "listSigningKeys" | "insertSigningKey" | "deleteRetiredKeys" | "getOrCreateSecret"
>;

/**
 * The MySQL store's statements on what all instances share besides the sessions: signing
 * keys, named secrets and claim invalidations. Apart from the session statements because
 * none of them locks or decides on a session row (invalidateClaim only strips a claim from
 * the user's stored payloads), and each is run on a timer or once per key or secret.
 */
export class MySqlSharedTables implements SharedStatements {
  readonly #db: MySqlConnector;
  readonly #sessions: string;
  readonly #keys: string;
  readonly #secrets: string;
  readonly #invalidations: string;

  constructor(db: MySqlConnector, prefix: string) {
    this.#db = db;
    this.#sessions = `\`${prefix}sessions\``;
    this.#keys = `\`${prefix}signing_keys\``;
    this.#secrets = `\`${prefix}secrets\``;
    this.#invalidations = `\`${prefix}claim_invalidations\``;
  }

  async invalidateClaim(userId: string, key: string, at: number): Promise<void> {
    const path = `$.${JSON.stringify(key)}`;
    await this.#db.transaction(async (tx) => {
      await tx.execute(
        `INSERT INTO ${this.#invalidations} (user_id, claim_key, invalidated_at) VALUES (?, ?, ?)
         ON DUPLICATE KEY UPDATE invalidated_at = GREATEST(invalidated_at, VALUES(invalidated_at))`,
        [userId, key, at],
      );
      await tx.execute(
        `UPDATE ${this.#sessions} SET access_token_payload = JSON_REMOVE(access_token_payload, ?)
         WHERE user_id = ? AND revoked_at IS NULL AND JSON_CONTAINS_PATH(access_token_payload, 'one', ?)`,
        [path, userId, path],
      );
    });
  }

  async listClaimInvalidationsSince(since: number): Promise<ClaimInvalidation[]> {
    const rows = await this.#db.run<RowDataPacket[]>(
      `SELECT user_id, claim_key, invalidated_at FROM ${this.#invalidations} WHERE invalidated_at >= ?`,
      [since],
    );
    return rows.map((row) => ({ userId: text(row.user_id), key: text(row.claim_key), invalidatedAt: Number(row.invalidated_at) }));
  }

  async deleteClaimInvalidations(before: number): Promise<number> {
    const result = await this.#db.run<ResultSetHeader>(`DELETE FROM ${this.#invalidations} WHERE invalidated_at < ?`, [before]);
    return result.affectedRows;
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db.run<RowDataPacket[]>(
      `SELECT kid, algorithm, public_key, private_key, created_at, signs_from, signs_until FROM ${this.#keys} ORDER BY signs_from`,
    );
    return rows.map((row) => ({
      kid: String(row.kid),
      algorithm: String(row.algorithm) as SigningKeyRecord["algorithm"],
      publicKey: String(row.public_key),
      privateKey: String(row.private_key),
      createdAt: Number(row.created_at),
      signsFrom: Number(row.signs_from),
      signsUntil: Number(row.signs_until),
    }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    await this.#db.run(
      `INSERT IGNORE INTO ${this.#keys} (kid, algorithm, public_key, private_key, created_at, signs_from, signs_until)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [key.kid, key.algorithm, key.publicKey, key.privateKey, key.createdAt, key.signsFrom, key.signsUntil],
    );
  }

  async deleteRetiredKeys(signsUntilBefore: number): Promise<number> {
    const result = await this.#db.run<ResultSetHeader>(`DELETE FROM ${this.#keys} WHERE signs_until < ?`, [signsUntilBefore]);
    return result.affectedRows;
  }

  async getOrCreateSecret(name: string, candidate: Buffer): Promise<Buffer> {
    await this.#db.run(`INSERT IGNORE INTO ${this.#secrets} (name, value, created_at) VALUES (?, ?, ?)`, [name, candidate, Date.now()]);
    const rows = await this.#db.run<RowDataPacket[]>(`SELECT value FROM ${this.#secrets} WHERE name = ?`, [name]);
    return Buffer.from(rows[0]?.value as Buffer);
  }

}
