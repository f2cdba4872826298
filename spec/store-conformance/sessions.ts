import type { SessionRecord, SessionStore } from "../../lib";
import { NOW, revokedOf, metadata, sortByHandle, type Conformance } from "./fixtures";

/** createSession and findSession, and the eviction createSession does under maxSessionsPerUser. */
export function sessionsConformance({ record, ready, sharedStores }: Conformance): void {
  describe("createSession and findSession", () => {
    it("round-trip every field byte-exact", async () => {
      const store = await ready();
      const refreshTokenHash = Buffer.alloc(32);
      refreshTokenHash.set([0x27, 0x22, 0x5c, 0x00, 0x0a, 0x0d, 0x1a, 0xff, 0x80], 1); // leading and trailing 0x00
      const prevRefreshTokenHash = Buffer.alloc(32, 0x20); // all spaces: nothing may trim them
      prevRefreshTokenHash[0] = 0xfe;
      const lineageHash = Buffer.alloc(32, 0x00); // all NUL but one byte: nothing may trim or null them
      lineageHash[17] = 0x5c;
      const full = record({
        userId: `o'brien"; DROP TABLE x; -- \u0000 😀 ü`,
        refreshTokenHash,
        prevRefreshTokenHash,
        lineageHash,
        rotatedAt: NOW - 1_000,
        undelivered: true,
        accessTokenPayload: {
          "kéy 😀": "välue",
          quote: `it's "q" \\ \u0000 end`,
          nested: { list: [1, -2.5, "two", null, true, false, [], {}], deep: { deeper: { deepest: "🦄" } } },
          big: Number.MAX_SAFE_INTEGER,
          separators: "a\u2028b\nc\td",
        },
        sessionData: { nul: "a\u0000b", cjk: "漢字", rtl: "שלום", combining: "e\u0301", empty: {}, list: [] },
        authTime: NOW - 2_900,
        idleTtl: 1_800_001,
        persistent: false,
        revokedAt: NOW - 500,
        ip: "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        userAgent: `Mozilla/5.0 "quoted" it's \\ ü 😀`,
        lastIp: "2001:0db8:0000:0000:0000:0000:0000:0001",
        lastUserAgent: `curl/8 'single' "double" \\ 漢字`,
      });
      const sparse = record({
        userId: "😀".repeat(255), // 1020 bytes: the most the column holds
        lineageHash: null,
        accessTokenPayload: {},
        sessionData: {},
        idleTtl: null,
        ip: null,
        userAgent: null,
        lastIp: null,
        lastUserAgent: null,
      });
      expect(await store.createSession(full)).toEqual([]);
      expect(await store.createSession(sparse)).toEqual([]);

      expect(await store.findSession(full.handle)).toEqual(full);
      expect(await store.findSession(sparse.handle)).toEqual(sparse);
      // toEqual would also accept a Uint8Array; callers rely on Buffer methods.
      const found = (await store.findSession(full.handle)) as SessionRecord;
      expect([Buffer.isBuffer(found.refreshTokenHash), Buffer.isBuffer(found.prevRefreshTokenHash), Buffer.isBuffer(found.lineageHash)]).toEqual([
        true,
        true,
        true,
      ]);
      // Booleans come back as booleans, not 0 and 1.
      expect([found.undelivered, found.persistent]).toStrictEqual([true, false]);
      const foundSparse = (await store.findSession(sparse.handle)) as SessionRecord;
      expect([foundSparse.undelivered, foundSparse.persistent]).toStrictEqual([false, true]);
      expect(await store.listForUser(sparse.userId, NOW, { limit: 10 })).toEqual([metadata(sparse)]);
    });

    it("findSession answers null for an unknown handle", async () => {
      const store = await ready();
      expect(await store.findSession("00000000-0000-4000-8000-ffffffffffff")).toBeNull();
      await store.createSession(record());
      expect(await store.findSession("00000000-0000-4000-8000-ffffffffffff")).toBeNull();
    });

    it("createSession rejects a duplicate handle and keeps the first row", async () => {
      const store = await ready();
      const row = record();
      await store.createSession(row);
      const duplicate = { ...row, userId: "someone-else", sessionData: { plan: "free" } };
      await expect(store.createSession(duplicate)).rejects.toBeInstanceOf(Error);
      expect(await store.findSession(row.handle)).toEqual(row);
    });

    it("createSession with maxSessionsPerUser rejects a duplicate handle without evicting anything", async () => {
      const store = await ready();
      const older = record({ userId: "dave", lastRefreshedAt: NOW - 900 });
      const row = record({ userId: "dave", lastRefreshedAt: NOW - 800 });
      await store.createSession(older);
      await store.createSession(row);
      const duplicate = { ...row, sessionData: { plan: "free" }, createdAt: NOW };
      await expect(store.createSession(duplicate, { maxSessionsPerUser: 1, at: NOW })).rejects.toBeInstanceOf(Error);
      // All or nothing: the eviction of the same call did not happen either.
      expect(await store.findSession(row.handle)).toEqual(row);
      expect(await store.findSession(older.handle)).toEqual(older);
    });
  });

  describe("createSession with maxSessionsPerUser", () => {
    it("evicts the least recently refreshed live sessions (ties by handle) so at most the limit stay live, stamps them at `at`, and names them", async () => {
      const store = await ready();
      // Three different orders: by last refresh a, b, c = d; by handle c, d, b, a; by creation d, c, a, b.
      const c = record({ userId: "carol", createdAt: NOW - 800, lastRefreshedAt: NOW - 300, ip: "192.0.2.12", userAgent: "UA-c" });
      const d = record({ userId: "carol", createdAt: NOW - 900, lastRefreshedAt: NOW - 300, ip: "192.0.2.13", userAgent: "UA-d" }); // ties c; c's handle sorts first
      const b = record({ userId: "carol", createdAt: NOW - 600, lastRefreshedAt: NOW - 400, ip: null, userAgent: null });
      const a = record({ userId: "carol", createdAt: NOW - 700, lastRefreshedAt: NOW - 500, ip: "192.0.2.10", userAgent: "UA-a" });
      const ignored = [
        record({ userId: "carol", lastRefreshedAt: NOW - 5_000, revokedAt: NOW - 10 }), // revoked
        record({ userId: "carol", lastRefreshedAt: NOW - 4_000, expiresAt: NOW + 7 }), // expired at `at`
        record({ userId: "carol", lastRefreshedAt: NOW - 3_500, expiresAt: NOW + 6, absoluteExpiresAt: NOW + 7 }), // ended at `at`
        record({ userId: "Carol", lastRefreshedAt: NOW - 3_000 }),
        record({ userId: "carol ", lastRefreshedAt: NOW - 3_000 }),
        record({ userId: "bob", lastRefreshedAt: NOW - 3_000 }),
      ];
      // Inserted out of order, so that insertion order picks the wrong ones.
      for (const row of [d, ...ignored.slice(0, 3), b, c, ...ignored.slice(3), a]) await store.createSession(row);

      const first = record({ userId: "carol", createdAt: NOW + 1, lastRefreshedAt: NOW + 2, authTime: NOW + 3 });
      const evicted = await store.createSession(first, { maxSessionsPerUser: 3, at: NOW + 7 });

      expect(sortByHandle(evicted)).toEqual(sortByHandle([a, b].map(revokedOf)));
      expect(await store.findSession(a.handle)).toEqual({ ...a, revokedAt: NOW + 7 });
      expect(await store.findSession(b.handle)).toEqual({ ...b, revokedAt: NOW + 7 });
      for (const row of [c, d, first, ...ignored]) expect(await store.findSession(row.handle)).toEqual(row);

      // The tie: c and d were refreshed at the same moment; the smaller handle goes first.
      // Without `at`, the stamp is the new session's createdAt.
      const second = record({ userId: "carol", createdAt: NOW + 11, lastRefreshedAt: NOW + 12, authTime: NOW + 13 });
      expect(await store.createSession(second, { maxSessionsPerUser: 3 })).toEqual([revokedOf(c)]);
      expect(await store.findSession(c.handle)).toEqual({ ...c, revokedAt: NOW + 11 });
      expect(await store.listForUser("carol", NOW + 20, { limit: 10 })).toEqual([d, first, second].map(metadata));
      for (const row of ignored) expect(await store.findSession(row.handle)).toEqual(row);
    });

    it("evicts nothing while the user is under the limit, nor without the option", async () => {
      const store = await ready();
      const rows = [record({ userId: "erin", createdAt: NOW - 10, lastRefreshedAt: NOW - 9 }), record({ userId: "erin", createdAt: NOW - 20, lastRefreshedAt: NOW - 8 })];
      expect(await store.createSession(rows[0] as SessionRecord, { maxSessionsPerUser: 3, at: NOW })).toEqual([]);
      expect(await store.createSession(rows[1] as SessionRecord, { maxSessionsPerUser: 3, at: NOW })).toEqual([]);
      const third = record({ userId: "erin", createdAt: NOW - 30, lastRefreshedAt: NOW - 7 });
      expect(await store.createSession(third, { maxSessionsPerUser: 3, at: NOW })).toEqual([]);
      const unlimited = record({ userId: "erin", createdAt: NOW - 40, lastRefreshedAt: NOW - 6 });
      expect(await store.createSession(unlimited)).toEqual([]);
      for (const row of [...rows, third, unlimited]) expect(await store.findSession(row.handle)).toEqual(row);
      // Now 4 are live: a limit of 2 leaves the new one and the most recently refreshed other.
      const fifth = record({ userId: "erin", createdAt: NOW + 1 });
      const evicted = await store.createSession(fifth, { maxSessionsPerUser: 2, at: NOW + 1 });
      expect(sortByHandle(evicted)).toEqual([rows[0], rows[1], third].map((row) => revokedOf(row as SessionRecord)));
      expect(await store.listForUser("erin", NOW + 1, { limit: 10 })).toEqual([unlimited, fifth].map(metadata));
    });

    it("holds under 20 concurrent logins of one user (from two instances): exactly the limit stay live, each eviction reported once", async () => {
      const shared = sharedStores(2);
      await Promise.all(shared.map((store) => store.init()));
      const rows = Array.from({ length: 20 }, (_, i) =>
        record({ userId: "frank", createdAt: NOW + i, lastRefreshedAt: NOW + i, authTime: NOW + i, ip: `192.0.2.${i}`, userAgent: `UA-${i}` }),
      );

      const evicted = await Promise.all(
        rows.map((row, i) => (shared[i % 2] as SessionStore).createSession(row, { maxSessionsPerUser: 3, at: NOW + 100 })),
      );

      const live = await (shared[1] as SessionStore).listForUser("frank", NOW + 100, { limit: 100 });
      expect(live).toHaveLength(3);
      const liveHandles = new Set(live.map((row) => row.handle));
      // Every other session was evicted by exactly one of the calls, and reported as it is.
      expect(sortByHandle(evicted.flat())).toEqual(rows.filter((row) => !liveHandles.has(row.handle)).map(revokedOf));
      for (const row of rows) {
        const revokedAt = liveHandles.has(row.handle) ? null : NOW + 100;
        expect(await (shared[0] as SessionStore).findSession(row.handle)).toEqual({ ...row, revokedAt });
      }
    }, 60_000);
  });
}
