import type { SessionRecord, SessionStore, SigningKeyRecord } from "../lib";
import type { StoreFactory } from "./helpers";

/**
 * The behaviour every SessionStore must have, run against the real memory and MySQL
 * stores (spec/store.spec.ts). A custom store can run it too.
 */
export function storeConformance(stores: StoreFactory): void {
  const NOW = Date.UTC(2026, 10, 28, 12);
  let serial = 0;

  function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
    serial++;
    return {
      handle: `00000000-0000-4000-8000-${String(serial).padStart(12, "0")}`,
      userId: "user-1",
      refreshTokenHash: Buffer.alloc(32, serial % 256),
      prevRefreshTokenHash: null,
      rotatedAt: null,
      accessTokenPayload: { role: "admin" },
      sessionData: { plan: "pro" },
      createdAt: NOW,
      lastRefreshedAt: NOW,
      expiresAt: NOW + 86_400_000,
      absoluteExpiresAt: NOW + 2 * 86_400_000,
      revokedAt: null,
      ip: "203.0.113.7",
      userAgent: "Firefox/140",
      ...overrides,
    };
  }

  function key(kid: string, overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
    return {
      kid,
      algorithm: "RS256",
      publicKey: `-----BEGIN PUBLIC KEY-----\n${kid}\n-----END PUBLIC KEY-----\n`,
      privateKey: `-----BEGIN PRIVATE KEY-----\n${kid}\n-----END PRIVATE KEY-----\n`,
      createdAt: NOW,
      signsFrom: NOW,
      signsUntil: NOW + 3_600_000,
      ...overrides,
    };
  }

  async function ready(): Promise<SessionStore> {
    const store = stores.create();
    await store.init();
    return store;
  }

  it("init is idempotent, also when two stores on one schema run it at once", async () => {
    const [a, b] = stores.pair();
    await Promise.all([a.init(), b.init()]);
    await a.init();
    const row = record();
    await a.createSession(row);
    expect(await b.findSession(row.handle)).toEqual(row);
  });

  it("round-trips a session byte-exact", async () => {
    const store = await ready();
    const row = record({
      userId: `o'brien"; DROP TABLE x; -- \u0000 😀 ü`,
      refreshTokenHash: Buffer.from(Array.from({ length: 32 }, (_, i) => i * 8)),
      prevRefreshTokenHash: Buffer.alloc(32, 0xff),
      rotatedAt: NOW - 5,
      accessTokenPayload: { nested: { list: [1, "two", null, true] }, quote: `it's "q"`, emoji: "😀" },
      sessionData: { nul: "a\u0000b", deep: { deeper: { deepest: 1.5 } } },
      revokedAt: NOW + 1,
      ip: null,
      userAgent: null,
    });
    await store.createSession(row);
    expect(await store.findSession(row.handle)).toEqual(row);
  });

  it("answers null for an unknown handle, and refuses a duplicate handle", async () => {
    const store = await ready();
    expect(await store.findSession("00000000-0000-4000-8000-ffffffffffff")).toBeNull();
    const row = record();
    await store.createSession(row);
    await expect(store.createSession({ ...row, userId: "someone-else" })).rejects.toThrow();
    expect((await store.findSession(row.handle))?.userId).toBe("user-1");
  });

  it("returns copies: changing a returned record changes nothing stored", async () => {
    const store = await ready();
    const row = record();
    await store.createSession(row);
    const copy = (await store.findSession(row.handle)) as SessionRecord;
    copy.userId = "mallory";
    copy.sessionData.plan = "free";
    copy.refreshTokenHash.fill(0);
    expect(await store.findSession(row.handle)).toEqual(row);
  });

  it("updateSession applies the update decide returns, and passes its result through", async () => {
    const store = await ready();
    const row = record();
    await store.createSession(row);
    const seen: SessionRecord[] = [];
    const result = await store.updateSession(row.handle, (current) => {
      seen.push(current);
      return { update: { revokedAt: NOW + 9, sessionData: { plan: "team" }, prevRefreshTokenHash: Buffer.alloc(32, 3) }, result: "done" };
    });
    expect(result).toBe("done");
    expect(seen).toEqual([row]);
    expect(await store.findSession(row.handle)).toEqual({
      ...row,
      revokedAt: NOW + 9,
      sessionData: { plan: "team" },
      prevRefreshTokenHash: Buffer.alloc(32, 3),
    });
  });

  it("updateSession writes nothing without an update, and answers null for an unknown handle", async () => {
    const store = await ready();
    const row = record();
    await store.createSession(row);
    expect(await store.updateSession(row.handle, () => ({ result: 42 }))).toBe(42);
    expect(await store.findSession(row.handle)).toEqual(row);
    let called = false;
    const unknown = await store.updateSession("00000000-0000-4000-8000-eeeeeeeeeeee", () => {
      called = true;
      return { result: 1 };
    });
    expect([unknown, called]).toEqual([null, false]);
  });

  it("updateSession rolls back when decide throws", async () => {
    const store = await ready();
    const row = record();
    await store.createSession(row);
    await expect(
      store.updateSession(row.handle, () => {
        throw new Error("decide failed");
      }),
    ).rejects.toThrow("decide failed");
    expect(await store.findSession(row.handle)).toEqual(row);
    // ...and the row is not left locked.
    expect(await store.updateSession(row.handle, () => ({ update: { revokedAt: NOW }, result: true }))).toBe(true);
  });

  it("updateSession is atomic: 20 concurrent read-modify-writes lose no update", async () => {
    const store = await ready();
    const row = record({ sessionData: { count: 0 } });
    await store.createSession(row);
    await Promise.all(
      Array.from({ length: 20 }, () =>
        store.updateSession(row.handle, (current) => ({
          update: { sessionData: { count: (current.sessionData.count as number) + 1 } },
          result: null,
        })),
      ),
    );
    expect((await store.findSession(row.handle))?.sessionData).toEqual({ count: 20 });
  });

  it("revokeAllForUser revokes exactly the user's live sessions and names them", async () => {
    const store = await ready();
    const mine = [record({ userId: "alice" }), record({ userId: "alice" })];
    const revokedBefore = record({ userId: "alice", revokedAt: NOW - 1 });
    const other = record({ userId: "Alice" });
    for (const row of [...mine, revokedBefore, other]) await store.createSession(row);
    const handles = await store.revokeAllForUser("alice", NOW + 5);
    expect(handles.sort()).toEqual(mine.map((row) => row.handle).sort());
    for (const row of mine) expect((await store.findSession(row.handle))?.revokedAt).toBe(NOW + 5);
    expect((await store.findSession(revokedBefore.handle))?.revokedAt).toBe(NOW - 1);
    expect((await store.findSession(other.handle))?.revokedAt).toBeNull();
    expect(await store.revokeAllForUser("nobody", NOW)).toEqual([]);
  });

  it("listForUser lists live sessions only, oldest first, comparing user ids byte-exact", async () => {
    const store = await ready();
    const newer = record({ userId: "bob", createdAt: NOW + 10 });
    const older = record({ userId: "bob", createdAt: NOW });
    const rows = [
      newer,
      older,
      record({ userId: "bob", revokedAt: NOW - 1 }),
      record({ userId: "bob", expiresAt: NOW }),
      record({ userId: "bob", absoluteExpiresAt: NOW }),
      record({ userId: "Bob" }),
      record({ userId: "bob " }),
    ];
    for (const row of rows) await store.createSession(row);
    expect((await store.listForUser("bob", NOW)).map((row) => row.handle)).toEqual([older.handle, newer.handle]);
    expect(await store.listForUser("bob", NOW)).toEqual([older, newer]);
  });

  it("listRevokedSince names sessions revoked at or after a time", async () => {
    const store = await ready();
    const early = record({ revokedAt: NOW - 100 });
    const late = record({ revokedAt: NOW + 100 });
    const atEdge = record({ revokedAt: NOW });
    for (const row of [early, late, atEdge, record()]) await store.createSession(row);
    const revoked = await store.listRevokedSince(NOW);
    expect(revoked.sort((a, b) => a.revokedAt - b.revokedAt)).toEqual([
      { handle: atEdge.handle, revokedAt: NOW },
      { handle: late.handle, revokedAt: NOW + 100 },
    ]);
  });

  it("deleteExpired deletes at most limit expired rows, never a live one, and says which", async () => {
    const store = await ready();
    const expired = Array.from({ length: 5 }, (_, i) => record({ userId: "gone", expiresAt: NOW - 10 + i }));
    const live = record({ userId: "stays", expiresAt: NOW + 1 });
    for (const row of [...expired, live]) await store.createSession(row);
    const first = await store.deleteExpired(NOW, 3);
    expect(first).toEqual(
      expired.slice(0, 3).map(({ handle, userId, revokedAt, ip, userAgent }) => ({ handle, userId, revokedAt, ip, userAgent })),
    );
    expect((await store.deleteExpired(NOW, 3)).map((row) => row.handle)).toEqual(expired.slice(3).map((row) => row.handle));
    expect(await store.deleteExpired(NOW, 3)).toEqual([]);
    expect(await store.findSession(live.handle)).toEqual(live);
  });

  it("inserts signing keys once per kid, lists them, and deletes retired ones", async () => {
    const store = await ready();
    const first = key("k1");
    await store.insertSigningKey(first);
    await store.insertSigningKey({ ...first, publicKey: "other" });
    await store.insertSigningKey(key("k2", { signsFrom: NOW + 3_600_000, signsUntil: NOW + 7_200_000 }));
    expect(await store.listSigningKeys()).toEqual([first, key("k2", { signsFrom: NOW + 3_600_000, signsUntil: NOW + 7_200_000 })]);
    expect(await store.deleteRetiredKeys(NOW + 3_600_000)).toBe(0);
    expect(await store.deleteRetiredKeys(NOW + 3_600_001)).toBe(1);
    expect((await store.listSigningKeys()).map((k) => k.kid)).toEqual(["k2"]);
  });

  it("keeps the first secret, also when two stores create it at once", async () => {
    const [a, b] = stores.pair();
    await Promise.all([a.init(), b.init()]);
    const [fromA, fromB] = await Promise.all([a.getOrCreateSecret("s", Buffer.alloc(32, 1)), b.getOrCreateSecret("s", Buffer.alloc(32, 2))]);
    expect(fromA).toEqual(fromB);
    expect(await a.getOrCreateSecret("s", Buffer.alloc(32, 3))).toEqual(fromA);
    expect(await a.getOrCreateSecret("t", Buffer.alloc(32, 4))).toEqual(Buffer.alloc(32, 4));
  });
}
