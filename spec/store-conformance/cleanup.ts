import type { ExpiredSession, SessionRecord, SessionStore } from "../../lib";
import { NOW, expiredOf, sortByHandle, shuffled, createAll, type Conformance } from "./fixtures";

/** deleteExpired: the cleanup timer's batches, on one instance and on several at once. */
export function cleanupConformance({ record, ready, sharedStores }: Conformance): void {
  describe("deleteExpired", () => {
    it("deletes at most limit expired sessions, soonest-expired first, never a live one, and says which", async () => {
      const store = await ready();
      const gone = (expiresAt: number, overrides: Partial<SessionRecord> = {}) =>
        record({ userId: "gone ü 😀", expiresAt, absoluteExpiresAt: expiresAt + 1_000, ...overrides });
      const first = gone(NOW - 300);
      const second = gone(NOW - 200);
      const revokedThenExpired = gone(NOW - 100, { revokedAt: NOW - 150, ip: null, userAgent: null });
      const endedAbsolutely = gone(NOW - 50, { absoluteExpiresAt: NOW - 50 });
      const atEdge = gone(NOW);
      const live = record({ expiresAt: NOW + 1 });
      const revokedLive = record({ revokedAt: NOW - 1 });
      for (const row of [atEdge, live, second, revokedThenExpired, revokedLive, first, endedAbsolutely]) {
        await store.createSession(row);
      }

      expect(await store.deleteExpired(NOW, 2)).toEqual([first, second].map(expiredOf));
      expect(await store.findSession(first.handle)).toBeNull();
      expect(await store.deleteExpired(NOW, 10)).toEqual([revokedThenExpired, endedAbsolutely, atEdge].map(expiredOf));
      expect(await store.deleteExpired(NOW, 10)).toEqual([]);
      expect(await store.findSession(live.handle)).toEqual(live);
      expect(await store.findSession(revokedLive.handle)).toEqual(revokedLive);
    });

    it.each([0, -1])("deletes nothing when limit is %d", async (limit) => {
      const store = await ready();
      const rows = [record({ expiresAt: NOW - 2 }), record({ expiresAt: NOW - 1 })];
      for (const row of rows) await store.createSession(row);
      expect(await store.deleteExpired(NOW, limit)).toEqual([]);
      for (const row of rows) expect(await store.findSession(row.handle)).toEqual(row);
    });

    it("never deletes or reports a row twice across three instances cleaning up at once", async () => {
      const shared = sharedStores(3);
      await Promise.all(shared.map((store) => store.init()));
      const expired = Array.from({ length: 300 }, (_, i) =>
        record({ userId: `gone-${i % 7}`, expiresAt: NOW - 1_000 + i, absoluteExpiresAt: NOW + i, ip: `10.1.${i >> 8}.${i & 255}`, userAgent: `UA-${i}` }),
      );
      const live = Array.from({ length: 5 }, (_, i) => record({ userId: "stays", expiresAt: NOW + 1 + i }));
      await createAll(shared[0] as SessionStore, shuffled([...expired, ...live]));
      const expiresAt = new Map(expired.map((row) => [row.handle, row.expiresAt]));

      const reports = await Promise.all(
        shared.map(async (store) => {
          const batches: ExpiredSession[][] = [];
          // Bounded: 300 rows take 6 batches in all; a store reporting rows again must fail, not loop.
          for (let batch = await store.deleteExpired(NOW, 50); batch.length > 0 && batches.length < 20; batch = await store.deleteExpired(NOW, 50)) {
            expect(batch.length).toBeLessThanOrEqual(50);
            batches.push(batch);
          }
          return batches;
        }),
      );

      const reported = reports.flat(2);
      expect(reported).toHaveLength(300);
      expect(sortByHandle(reported)).toEqual(expired.map(expiredOf));
      // Each batch soonest-expired first.
      for (const batch of reports.flat()) {
        const times = batch.map((row) => expiresAt.get(row.handle) as number);
        expect(times).toEqual([...times].sort((x, y) => x - y));
      }
      expect(await (shared[1] as SessionStore).deleteExpired(NOW, 1_000)).toEqual([]);
      for (const row of live) expect(await (shared[2] as SessionStore).findSession(row.handle)).toEqual(row);
    }, 60_000);
  });
}
