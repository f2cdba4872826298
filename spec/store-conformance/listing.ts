import type { RevokedHandle, SessionMetadata, SessionRecord } from "../../lib";
import { NOW, METADATA_KEYS, metadata, shuffled, createAll, type Conformance } from "./fixtures";

/** listForUser (a user's live sessions, paged) and listRevokedSince (the revocation poll, paged). */
export function listingConformance({ record, ready }: Conformance): void {
  describe("listForUser", () => {
    it("lists the user's live sessions only, oldest first, comparing user ids byte-exact", async () => {
      const store = await ready();
      const oldest = record({ userId: "bob", createdAt: NOW - 300 });
      const expiresNext = record({ userId: "bob", createdAt: NOW - 200, expiresAt: NOW + 1 });
      const endsNext = record({ userId: "bob", createdAt: NOW - 100, expiresAt: NOW + 1, absoluteExpiresAt: NOW + 1 });
      const excluded = [
        record({ userId: "bob", revokedAt: NOW - 1 }),
        record({ userId: "bob", expiresAt: NOW }),
        record({ userId: "bob", expiresAt: NOW, absoluteExpiresAt: NOW }),
        record({ userId: "Bob" }),
        record({ userId: "BOB" }),
        record({ userId: "bob " }),
        record({ userId: "bob\u0000" }),
      ];
      for (const row of [endsNext, ...excluded.slice(0, 4), oldest, ...excluded.slice(4), expiresNext]) {
        await store.createSession(row);
      }

      expect(await store.listForUser("bob", NOW, { limit: 10 })).toEqual([oldest, expiresNext, endsNext].map(metadata));
      expect(await store.listForUser("bob", NOW + 1, { limit: 10 })).toEqual([metadata(oldest)]);
      expect(await store.listForUser("nobody", NOW, { limit: 10 })).toEqual([]);
    });

    it("shows metadata only: exactly the listing's keys, no payload, session data or hash", async () => {
      const store = await ready();
      const row = record({
        userId: "meta",
        prevRefreshTokenHash: Buffer.alloc(32, 3),
        rotatedAt: NOW - 10,
        undelivered: true,
        persistent: false,
        idleTtl: 77_000,
        lastIp: null,
        userAgent: null,
      });
      await store.createSession(row);
      const [listed] = await store.listForUser("meta", NOW, { limit: 1 });
      expect(Object.keys(listed as object).sort()).toEqual(METADATA_KEYS);
      expect(listed).toStrictEqual(metadata(row));
    });

    it("orders sessions created in the same millisecond by handle, respects limit, and pages with `after` without gaps or repeats", async () => {
      const store = await ready();
      const before = Array.from({ length: 2 }, () => record({ userId: "pager", createdAt: NOW - 10 }));
      const sameMs = (i: number) => record({ userId: "pager", createdAt: NOW, lastRefreshedAt: NOW + 100 - i });
      const same = Array.from({ length: 12 }, (_, i) => sameMs(i));
      // Amid them (by handle), one revoked and one expired: a page position may name either.
      const revoked = record({ userId: "pager", createdAt: NOW, revokedAt: NOW });
      const expired = record({ userId: "pager", createdAt: NOW, expiresAt: NOW + 50 });
      same.push(...Array.from({ length: 13 }, (_, i) => sameMs(12 + i)));
      const after = Array.from({ length: 3 }, () => record({ userId: "pager", createdAt: NOW + 10 }));
      const stranger = record({ userId: "pager2", createdAt: NOW });
      await createAll(store, shuffled([...before, ...same, ...after, revoked, expired, stranger]));
      const expected = [...before, ...same, ...after].map(metadata); // handles ascend with creation

      const pages: SessionMetadata[][] = [];
      let position: { createdAt: number; handle: string } | undefined;
      // Bounded: a store that repeats rows must fail here, not page for ever.
      while (pages.length < 10) {
        const page = await store.listForUser("pager", NOW + 50, { limit: 10, ...(position ? { after: position } : {}) });
        if (page.length === 0) break;
        pages.push(page);
        const last = page[page.length - 1] as SessionMetadata;
        position = { createdAt: last.createdAt, handle: last.handle };
      }

      expect(pages.map((page) => page.length)).toEqual([10, 10, 10]);
      expect(pages.flat()).toEqual(expected);
      expect(await store.listForUser("pager", NOW + 50, { limit: 3 })).toEqual(expected.slice(0, 3));
      // A position is a value, not a row: it need not be live, nor exist.
      expect(await store.listForUser("pager", NOW + 50, { limit: 100, after: { createdAt: expired.createdAt, handle: expired.handle } })).toEqual(
        expected.slice(2 + 12),
      );
      expect(await store.listForUser("pager", NOW + 50, { limit: 100, after: { createdAt: revoked.createdAt, handle: revoked.handle } })).toEqual(
        expected.filter((row) => row.createdAt > NOW || (row.createdAt === NOW && row.handle > revoked.handle)),
      );
      expect(await store.listForUser("pager", NOW + 50, { limit: 100, after: { createdAt: NOW, handle: "" } })).toEqual(expected.slice(2));
      expect(await store.listForUser("pager", NOW + 50, { limit: 100, after: { createdAt: NOW - 11, handle: "~" } })).toEqual(expected);
      expect(await store.listForUser("pager", NOW + 50, { limit: 100, after: { createdAt: NOW + 10, handle: "~" } })).toEqual([]);
    });

    it.each([0, -1])("lists nothing when limit is %d", async (limit) => {
      const store = await ready();
      await store.createSession(record({ userId: "zero" }));
      expect(await store.listForUser("zero", NOW, { limit })).toEqual([]);
    });

    it("tells apart user ids that differ only in Unicode normalisation", async () => {
      const store = await ready();
      const composed = record({ userId: "jos\u00e9" });
      const decomposed = record({ userId: "jose\u0301" });
      await store.createSession(composed);
      await store.createSession(decomposed);
      expect(await store.listForUser("jos\u00e9", NOW, { limit: 10 })).toEqual([metadata(composed)]);
      expect(await store.listForUser("jose\u0301", NOW, { limit: 10 })).toEqual([metadata(decomposed)]);
    });
  });

  describe("listRevokedSince", () => {
    it("names sessions revoked from a position on, of any user, by revocation time then handle, at most limit", async () => {
      const store = await ready();
      const early = record({ revokedAt: NOW - 1 });
      const atEdge = Array.from({ length: 3 }, () => record({ revokedAt: NOW }));
      const late = record({ userId: "someone-else", revokedAt: NOW + 100 });
      const [h1, h2, h3] = atEdge as [SessionRecord, SessionRecord, SessionRecord];
      for (const row of [late, h3, early, record(), h1, h2]) await store.createSession(row);
      const entry = (row: SessionRecord): RevokedHandle => ({ handle: row.handle, revokedAt: row.revokedAt as number });

      expect(await store.listRevokedSince({ revokedAt: NOW, handle: "" }, 10)).toEqual([h1, h2, h3, late].map(entry));
      expect(await store.listRevokedSince({ revokedAt: NOW, handle: h1.handle }, 10)).toEqual([h2, h3, late].map(entry));
      expect(await store.listRevokedSince({ revokedAt: NOW, handle: h3.handle }, 10)).toEqual([entry(late)]);
      expect(await store.listRevokedSince({ revokedAt: NOW - 1, handle: "~" }, 10)).toEqual([h1, h2, h3, late].map(entry));
      expect(await store.listRevokedSince({ revokedAt: NOW - 1, handle: "" }, 2)).toEqual([early, h1].map(entry));
      expect(await store.listRevokedSince({ revokedAt: NOW + 100, handle: "" }, 10)).toEqual([entry(late)]);
      expect(await store.listRevokedSince({ revokedAt: NOW + 100, handle: late.handle }, 10)).toEqual([]);
      expect(await store.listRevokedSince({ revokedAt: NOW + 101, handle: "" }, 10)).toEqual([]);
    });

    it.each([0, -1])("names nothing when limit is %d", async (limit) => {
      const store = await ready();
      await store.createSession(record({ revokedAt: NOW }));
      expect(await store.listRevokedSince({ revokedAt: 0, handle: "" }, limit)).toEqual([]);
    });

    it("pages through 2,500 revocations stamped in one millisecond, 1,000 at a time, seeing each exactly once", async () => {
      const store = await ready();
      const before = record({ revokedAt: NOW - 1 });
      const burst = Array.from({ length: 2_500 }, () => record({ userId: "burst", revokedAt: NOW }));
      const after = [record({ revokedAt: NOW + 1 }), record({ revokedAt: NOW + 1 })];
      await createAll(store, shuffled([before, ...burst, ...after, record()]));

      const pages: RevokedHandle[][] = [];
      let position = { revokedAt: NOW, handle: "" };
      while (pages.length < 10) {
        const page = await store.listRevokedSince(position, 1_000);
        if (page.length === 0) break;
        pages.push(page);
        position = page[page.length - 1] as RevokedHandle;
      }

      expect(pages.map((page) => page.length)).toEqual([1_000, 1_000, 502]);
      expect(pages.flat()).toEqual([...burst, ...after].map((row) => ({ handle: row.handle, revokedAt: row.revokedAt as number })));
    }, 60_000);
  });
}
