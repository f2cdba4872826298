import type { SessionRecord, SessionStore, SessionUpdate } from "../../lib";
import { NOW, type Conformance } from "./fixtures";

/** updateSession: the read-decide-write every refresh, rotation and revocation goes through. */
export function updateSessionConformance({ record, ready, sharedStores }: Conformance): void {
  describe("updateSession", () => {
    it("hands decide the current row, applies its update (every column) to that row only, and passes its result", async () => {
      const store = await ready();
      const row = record({ prevRefreshTokenHash: null, lineageHash: null, lastIp: null, lastUserAgent: null });
      const neighbour = record();
      await store.createSession(row);
      await store.createSession(neighbour);
      // Required: a column added to SessionUpdate without a line here does not compile.
      const update: Required<SessionUpdate> = {
        refreshTokenHash: Buffer.alloc(32, 9),
        prevRefreshTokenHash: Buffer.alloc(32, 10),
        lineageHash: Buffer.alloc(32, 11),
        rotatedAt: NOW + 1,
        undelivered: true,
        lastRefreshedAt: NOW + 2,
        authTime: NOW + 3,
        expiresAt: NOW + 4,
        revokedAt: NOW + 5,
        accessTokenPayload: { role: "viewer", "😀": [1, { two: 2 }] },
        sessionData: { plan: "team", note: `"it's" \u0000` },
        lastIp: "192.0.2.200",
        lastUserAgent: "Opera/115",
      };
      const result = { outcome: "rotated" };
      const seen: SessionRecord[] = [];

      const answer = await store.updateSession(row.handle, (current) => {
        seen.push(current);
        return { update, result };
      });

      expect(answer).toBe(result);
      expect(seen).toEqual([row]);
      const updated = { ...row, ...update };
      expect(await store.findSession(row.handle)).toEqual(updated);
      expect(await store.findSession(neighbour.handle)).toEqual(neighbour);
      // The next decide sees the state the last update left.
      expect(await store.updateSession(row.handle, (current) => ({ result: current }))).toEqual(updated);

      // And back: every nullable column to null, every boolean to false.
      const back: SessionUpdate = {
        prevRefreshTokenHash: null,
        lineageHash: null,
        rotatedAt: null,
        undelivered: false,
        revokedAt: null,
        lastIp: null,
        lastUserAgent: null,
      };
      await store.updateSession(row.handle, () => ({ update: back, result: null }));
      expect(await store.findSession(row.handle)).toEqual({ ...updated, ...back });
      expect(await store.findSession(neighbour.handle)).toEqual(neighbour);
    });

    it("writes nothing when decide returns no update (or an empty one)", async () => {
      const store = await ready();
      const row = record();
      await store.createSession(row);
      expect(await store.updateSession(row.handle, () => ({ result: 42 }))).toBe(42);
      expect(await store.updateSession(row.handle, () => ({ update: {}, result: "empty" }))).toBe("empty");
      expect(await store.findSession(row.handle)).toEqual(row);
    });

    it("answers null for an unknown handle without calling decide", async () => {
      const store = await ready();
      await store.createSession(record());
      let calls = 0;
      const answer = await store.updateSession("00000000-0000-4000-8000-eeeeeeeeeeee", () => {
        calls++;
        return { update: { revokedAt: NOW }, result: "changed" };
      });
      expect([answer, calls]).toEqual([null, 0]);
    });

    it("rejects with what decide throws, leaves the row unchanged, and does not keep it locked", async () => {
      const shared = sharedStores(2);
      const [a, b] = shared as [SessionStore, SessionStore];
      await Promise.all(shared.map((store) => store.init()));
      const row = record();
      await a.createSession(row);
      const failure = new Error("decide failed");
      await expect(
        a.updateSession(row.handle, () => {
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await a.findSession(row.handle)).toEqual(row);
      // Another instance, so on another connection: a lock left behind (say, by a
      // connection returned to the pool mid-transaction) would make this wait out the
      // query timeout and reject.
      expect(await b.updateSession(row.handle, () => ({ update: { revokedAt: NOW }, result: "after" }))).toBe("after");
      expect(await a.findSession(row.handle)).toEqual({ ...row, revokedAt: NOW });
    });

    it("is atomic: 20 concurrent read-modify-writes from two instances each see the previous one's write", async () => {
      const shared = sharedStores(2);
      await Promise.all(shared.map((store) => store.init()));
      const row = record({ sessionData: { count: 0 } });
      await (shared[0] as SessionStore).createSession(row);
      let decisions = 0;

      const seen = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (shared[i % 2] as SessionStore).updateSession(row.handle, (current) => {
            decisions++;
            const count = current.sessionData.count as number;
            return { update: { sessionData: { count: count + 1 } }, result: count };
          }),
        ),
      );

      // Without a row lock, two calls read the same count and one increment is lost.
      expect(seen.sort((x, y) => (x as number) - (y as number))).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(decisions).toBe(20);
      expect((await (shared[1] as SessionStore).findSession(row.handle))?.sessionData).toEqual({ count: 20 });
    });
  });
}
