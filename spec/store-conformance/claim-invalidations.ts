import type { ClaimInvalidation, SessionRecord } from "../../lib";
import { NOW, byTime, type Conformance } from "./fixtures";

/** invalidateClaim, listClaimInvalidationsSince and deleteClaimInvalidations. */
export function claimInvalidationsConformance({ record, ready }: Conformance): void {
  describe("claim invalidations", () => {
    it("removes the key from the stored payload of that user's non-revoked sessions only, keeping every other key", async () => {
      const store = await ready();
      const payload = () => ({
        role: "admin",
        "st-role": { v: ["admin"], t: NOW - 1 },
        "a.b": 1,
        a: { b: 2 },
        "x:y": "xy",
        x: { y: 3 },
      });
      const live = record({ userId: "ivy", accessTokenPayload: payload(), sessionData: { "st-role": "data keeps it" } });
      const expired = record({ userId: "ivy", accessTokenPayload: payload(), expiresAt: NOW - 1, absoluteExpiresAt: NOW - 1 });
      const revoked = record({ userId: "ivy", accessTokenPayload: payload(), revokedAt: NOW - 5 });
      const without = record({ userId: "ivy", accessTokenPayload: { role: "viewer" } });
      const others = [
        record({ userId: "Ivy", accessTokenPayload: payload() }),
        record({ userId: "ivy ", accessTokenPayload: payload() }),
        record({ userId: "jack", accessTokenPayload: payload() }),
      ];
      for (const row of [others[0], revoked, live, others[1], without, expired, others[2]] as SessionRecord[]) await store.createSession(row);
      const stripped = (row: SessionRecord, ...keys: string[]): SessionRecord => ({
        ...row,
        accessTokenPayload: Object.fromEntries(Object.entries(row.accessTokenPayload).filter(([k]) => !keys.includes(k))),
      });
      const unchanged = async () => {
        expect(await store.findSession(revoked.handle)).toEqual(revoked);
        expect(await store.findSession(without.handle)).toEqual(without);
        for (const row of others) expect(await store.findSession(row.handle)).toEqual(row);
      };

      await store.invalidateClaim("ivy", "st-role", NOW + 10);
      expect(await store.findSession(live.handle)).toEqual(stripped(live, "st-role"));
      expect(await store.findSession(expired.handle)).toEqual(stripped(expired, "st-role"));
      await unchanged();

      // A dot or a colon is part of the key, not a path: "a.b" is not a → b.
      await store.invalidateClaim("ivy", "a.b", NOW + 20);
      await store.invalidateClaim("ivy", "x:y", NOW + 30);
      expect(await store.findSession(live.handle)).toEqual(stripped(live, "st-role", "a.b", "x:y"));
      expect((await store.findSession(live.handle))?.accessTokenPayload).toEqual({ role: "admin", a: { b: 2 }, x: { y: 3 } });
      expect(await store.findSession(expired.handle)).toEqual(stripped(expired, "st-role", "a.b", "x:y"));
      await unchanged();

      // A key no session carries changes no session.
      await store.invalidateClaim("ivy", "st-perm", NOW + 40);
      expect(await store.findSession(live.handle)).toEqual(stripped(live, "st-role", "a.b", "x:y"));
      await unchanged();
    });

    it("keeps the latest time per user and key, lists by time, and deletes by time with the count", async () => {
      const store = await ready();
      const entry = (userId: string, key: string, invalidatedAt: number): ClaimInvalidation => ({ userId, key, invalidatedAt });
      await store.invalidateClaim("kim", "st-role", NOW + 10);
      await store.invalidateClaim("kim", "st-perm", NOW + 5);
      await store.invalidateClaim("Kim", "st-role", NOW + 15);
      await store.invalidateClaim("kim ", "st-role", NOW + 17);
      await store.invalidateClaim("kim", "a.b", NOW + 20);
      await store.invalidateClaim("kim", "x:y", NOW + 30);
      // The latest time wins: an older one does not move it back, a newer one moves it on.
      await store.invalidateClaim("kim", "st-role", NOW + 1);
      await store.invalidateClaim("kim", "a.b", NOW + 25);

      const all = [
        entry("kim", "st-perm", NOW + 5),
        entry("kim", "st-role", NOW + 10),
        entry("Kim", "st-role", NOW + 15),
        entry("kim ", "st-role", NOW + 17),
        entry("kim", "a.b", NOW + 25),
        entry("kim", "x:y", NOW + 30),
      ];
      expect(byTime(await store.listClaimInvalidationsSince(0))).toEqual(all);
      expect(byTime(await store.listClaimInvalidationsSince(NOW + 10))).toEqual(all.slice(1));
      expect(byTime(await store.listClaimInvalidationsSince(NOW + 11))).toEqual(all.slice(2));
      expect(byTime(await store.listClaimInvalidationsSince(NOW + 30))).toEqual(all.slice(5));
      expect(await store.listClaimInvalidationsSince(NOW + 31)).toEqual([]);

      expect(await store.deleteClaimInvalidations(NOW + 5)).toBe(0);
      expect(await store.deleteClaimInvalidations(NOW + 16)).toBe(3);
      expect(byTime(await store.listClaimInvalidationsSince(0))).toEqual(all.slice(3));
      expect(await store.deleteClaimInvalidations(NOW + 16)).toBe(0);
      expect(await store.deleteClaimInvalidations(NOW + 31)).toBe(3);
      expect(await store.listClaimInvalidationsSince(0)).toEqual([]);

      // Deleted, a key starts afresh: an older time counts again.
      await store.invalidateClaim("kim", "st-role", NOW + 2);
      expect(await store.listClaimInvalidationsSince(0)).toEqual([entry("kim", "st-role", NOW + 2)]);
    });

    it("compares claim keys byte-exact, as user ids: 'st-role', 'st-role ' and 'ST-ROLE' are three keys", async () => {
      const store = await ready();
      const row = record({ userId: "lee", accessTokenPayload: { "st-role": 1, "st-role ": 2, "ST-ROLE": 3 } });
      await store.createSession(row);

      await store.invalidateClaim("lee", "st-role ", NOW + 2);
      expect((await store.findSession(row.handle))?.accessTokenPayload).toEqual({ "st-role": 1, "ST-ROLE": 3 });
      await store.invalidateClaim("lee", "st-role", NOW + 1);
      await store.invalidateClaim("lee", "ST-ROLE", NOW + 3);

      expect(byTime(await store.listClaimInvalidationsSince(0))).toEqual([
        { userId: "lee", key: "st-role", invalidatedAt: NOW + 1 },
        { userId: "lee", key: "st-role ", invalidatedAt: NOW + 2 },
        { userId: "lee", key: "ST-ROLE", invalidatedAt: NOW + 3 },
      ]);
    });
  });
}
