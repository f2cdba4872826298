import type { Decision, ExpiredSession, RevokedHandle, SessionRecord, SessionStore, SigningKeyRecord } from "./store";

/**
 * The embedded store: everything in this process's memory, lost on restart and not
 * shared between instances. For development and tests; `sessionMiddleware` refuses to
 * fall back to it when `NODE_ENV=production`.
 *
 * Every method does its work synchronously inside one call, so `updateSession` is
 * atomic without a lock: no other request can run between its read and its write.
 */
export class MemoryStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #keys = new Map<string, SigningKeyRecord>();
  readonly #secrets = new Map<string, Buffer>();

  async init(): Promise<void> {}

  async createSession(record: SessionRecord): Promise<void> {
    if (this.#sessions.has(record.handle)) throw new Error(`duplicate session handle`);
    this.#sessions.set(record.handle, copy(record));
  }

  async findSession(handle: string): Promise<SessionRecord | null> {
    const row = this.#sessions.get(handle);
    return row ? copy(row) : null;
  }

  async updateSession<T>(handle: string, decide: (current: SessionRecord) => Decision<T>): Promise<T | null> {
    const row = this.#sessions.get(handle);
    if (!row) return null;
    const { update, result } = decide(copy(row));
    if (update) this.#sessions.set(handle, copy({ ...row, ...update }));
    return result;
  }

  async revokeAllForUser(userId: string, at: number): Promise<string[]> {
    const revoked: string[] = [];
    for (const row of this.#sessions.values()) {
      if (row.userId === userId && row.revokedAt === null) {
        row.revokedAt = at;
        revoked.push(row.handle);
      }
    }
    return revoked;
  }

  async listForUser(userId: string, now: number): Promise<SessionRecord[]> {
    return [...this.#sessions.values()]
      .filter((row) => row.userId === userId && isLive(row, now))
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(copy);
  }

  async listRevokedSince(since: number): Promise<RevokedHandle[]> {
    const revoked: RevokedHandle[] = [];
    for (const row of this.#sessions.values()) {
      if (row.revokedAt !== null && row.revokedAt >= since) revoked.push({ handle: row.handle, revokedAt: row.revokedAt });
    }
    return revoked.sort((a, b) => a.revokedAt - b.revokedAt);
  }

  async deleteExpired(now: number, limit: number): Promise<ExpiredSession[]> {
    const expired = [...this.#sessions.values()]
      .filter((row) => row.expiresAt <= now || row.absoluteExpiresAt <= now)
      .sort((a, b) => a.expiresAt - b.expiresAt)
      // A negative end would make slice() count from the back and delete all but a few.
      .slice(0, Math.max(0, limit));
    for (const row of expired) this.#sessions.delete(row.handle);
    return expired.map(({ handle, userId, revokedAt, ip, userAgent }) => ({ handle, userId, revokedAt, ip, userAgent }));
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    return [...this.#keys.values()].map((key) => ({ ...key }));
  }

  async insertSigningKey(key: SigningKeyRecord): Promise<void> {
    if (!this.#keys.has(key.kid)) this.#keys.set(key.kid, { ...key });
  }

  async deleteRetiredKeys(signsUntilBefore: number): Promise<number> {
    let deleted = 0;
    for (const [kid, key] of this.#keys) {
      if (key.signsUntil < signsUntilBefore) {
        this.#keys.delete(kid);
        deleted++;
      }
    }
    return deleted;
  }

  async getOrCreateSecret(name: string, candidate: Buffer): Promise<Buffer> {
    if (!this.#secrets.has(name)) this.#secrets.set(name, Buffer.from(candidate));
    return Buffer.from(this.#secrets.get(name) as Buffer);
  }

  async close(): Promise<void> {}
}

function isLive(row: SessionRecord, now: number): boolean {
  return row.revokedAt === null && row.expiresAt > now && row.absoluteExpiresAt > now;
}

// Records cross the store boundary by value, as they would through a database driver:
// a caller mutating what it got back must not change what is stored.
function copy(row: SessionRecord): SessionRecord {
  return {
    ...row,
    refreshTokenHash: Buffer.from(row.refreshTokenHash),
    prevRefreshTokenHash: row.prevRefreshTokenHash ? Buffer.from(row.prevRefreshTokenHash) : null,
    accessTokenPayload: structuredClone(row.accessTokenPayload),
    sessionData: structuredClone(row.sessionData),
  };
}
