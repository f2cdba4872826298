import mysql from "mysql2/promise";
import type { SessionRecord } from "../../lib";
import { DATABASE_URL } from "../helpers";
import { NOW, revokedOf, metadata, sortByHandle, sortedHandles, steppingClock, shuffled, createAll, type Conformance } from "./fixtures";

/** revokeSessionsOfUser: sign-out everywhere, in batches, and (MySQL) locking only the user's rows. */
export function revocationConformance({ stores, record, open, ready }: Conformance): void {
  describe("revokeSessionsOfUser", () => {
    it("revokes exactly the user's un-revoked sessions (expired ones too), at the clock's time, and names them", async () => {
      const store = await ready();
      const mine = [
        record({ userId: "alice", ip: "192.0.2.1", userAgent: "UA-1" }),
        record({ userId: "alice", createdAt: NOW - 9_000, ip: null, userAgent: null }),
        record({ userId: "alice", expiresAt: NOW - 1, absoluteExpiresAt: NOW - 1, ip: "192.0.2.3", userAgent: "UA-3" }), // expired
      ];
      const revokedBefore = record({ userId: "alice", revokedAt: NOW - 1 });
      const others = [record({ userId: "Alice" }), record({ userId: "alice " }), record({ userId: "bob" })];
      for (const row of [others[0], mine[0], revokedBefore, others[1], mine[2], mine[1], others[2]] as SessionRecord[]) {
        await store.createSession(row);
      }
      const clock = steppingClock(NOW + 777);

      const revoked = await store.revokeSessionsOfUser("alice", clock.now);

      expect(clock.readings[0]).toBe(NOW + 777); // it was called, and its reading is the stamp
      expect(sortByHandle(revoked)).toEqual(mine.map(revokedOf));
      for (const row of mine) expect(await store.findSession(row.handle)).toEqual({ ...row, revokedAt: NOW + 777 });
      expect(await store.findSession(revokedBefore.handle)).toEqual(revokedBefore);
      for (const row of others) expect(await store.findSession(row.handle)).toEqual(row);
      expect(await store.revokeSessionsOfUser("alice", steppingClock(NOW + 900).now)).toEqual([]);
      expect(await store.revokeSessionsOfUser("nobody", steppingClock(NOW).now)).toEqual([]);
      for (const row of mine) expect(await store.findSession(row.handle)).toEqual({ ...row, revokedAt: NOW + 777 });
    });

    it("spares the session named by `except`, and only the user's own", async () => {
      const store = await ready();
      const kept = record({ userId: "gina" });
      const mine = [record({ userId: "gina", ip: "192.0.2.4" }), record({ userId: "gina", ip: "192.0.2.5" })];
      const other = record({ userId: "hank" });
      for (const row of [mine[1], kept, other, mine[0]] as SessionRecord[]) await store.createSession(row);

      expect(sortByHandle(await store.revokeSessionsOfUser("gina", steppingClock(NOW + 3).now, { except: kept.handle }))).toEqual(
        mine.map(revokedOf),
      );
      expect(await store.findSession(kept.handle)).toEqual(kept);
      for (const row of mine) expect(await store.findSession(row.handle)).toEqual({ ...row, revokedAt: NOW + 3 });

      // `except` naming another user's session spares nothing of this one.
      expect(await store.revokeSessionsOfUser("gina", steppingClock(NOW + 4).now, { except: other.handle })).toEqual([revokedOf(kept)]);
      expect(await store.findSession(kept.handle)).toEqual({ ...kept, revokedAt: NOW + 4 });
      expect(await store.findSession(other.handle)).toEqual(other);
    });

    it("revokes and names, once each, more sessions than one batch holds (1,234)", async () => {
      const store = await ready();
      const mine = Array.from({ length: 1_234 }, (_, i) => record({ userId: "many", ip: `10.0.${i >> 8}.${i & 255}`, userAgent: `UA-${i}` }));
      const kept = record({ userId: "many" });
      const other = record({ userId: "many " });
      await createAll(store, shuffled([...mine, kept, other]));
      const clock = steppingClock(NOW + 10_000);

      const revoked = await store.revokeSessionsOfUser("many", clock.now, { except: kept.handle });

      expect(revoked).toHaveLength(mine.length);
      expect(sortByHandle(revoked)).toEqual(mine.map(revokedOf));
      expect(await store.listForUser("many", NOW, { limit: 10_000 })).toEqual([metadata(kept)]);
      const stamps = await store.listRevokedSince({ revokedAt: 0, handle: "" }, 10_000);
      expect(stamps.map((entry) => entry.handle)).toEqual(sortedHandles(mine));
      // A store may read the clock per batch, but every stamp is one of its readings.
      for (const entry of stamps) expect(clock.readings).toContain(entry.revokedAt);
      expect(await store.findSession(kept.handle)).toEqual(kept);
      expect(await store.findSession(other.handle)).toEqual(other);
      expect(await store.revokeSessionsOfUser("many", steppingClock(NOW + 20_000).now)).toEqual([revokedOf(kept)]);
      expect(await store.revokeSessionsOfUser("many", steppingClock(NOW + 30_000).now)).toEqual([]);
    }, 60_000);

    // Only MySQL has row locks. The store must lock the user's rows alone, by primary key:
    // with one locking read by user id, a user who owns most of the table is read by a full
    // scan (the optimizer's choice), which locks — and here waits on — everyone's rows.
    if (stores.kind === "mysql") {
      it("does not wait on locks another transaction holds on another user's rows, even when the user owns most of the table (MySQL only: row locks)", async () => {
        const prefix = stores.newPrefix();
        const store = open(prefix);
        await store.init();
        const mine = Array.from({ length: 50 }, () => record({ userId: "alice" }));
        const neighbour = record({ userId: "bob" });
        await createAll(store, [...mine, neighbour]);
        const holder = await mysql.createConnection({ uri: DATABASE_URL });
        try {
          await holder.query("START TRANSACTION");
          await holder.query(`SELECT session_handle FROM \`${prefix}sessions\` WHERE user_id = ? FOR UPDATE`, ["bob"]);
          const started = Date.now();
          expect(sortByHandle(await store.revokeSessionsOfUser("alice", steppingClock(NOW + 1).now))).toEqual(mine.map(revokedOf));
          // The server's lock wait is at least a second: a wait would show.
          expect(Date.now() - started).toBeLessThan(900);
        } finally {
          await holder.query("ROLLBACK");
          await holder.end();
        }
        expect(await store.findSession(neighbour.handle)).toEqual(neighbour);
      });
    }
  });
}
