import type { ClaimInvalidation, SessionMetadata, SessionRecord, SigningKeyRecord } from "../../lib";
import { NOW, type Conformance } from "./fixtures";

/** Records cross the store boundary by value: no caller can change what is stored by changing what it holds. */
export function byValueConformance({ record, key, ready }: Conformance): void {
  describe("records cross the boundary by value", () => {
    it("changing a session passed in or handed out changes nothing stored", async () => {
      const store = await ready();
      const row = record({ userId: "copy", prevRefreshTokenHash: Buffer.alloc(32, 4), sessionData: { nested: { n: 1 } } });
      const unchanged = async () => expect(await store.findSession(row.handle)).toEqual(row);

      const input: SessionRecord = {
        ...row,
        refreshTokenHash: Buffer.from(row.refreshTokenHash),
        lineageHash: Buffer.from(row.lineageHash as Buffer),
        accessTokenPayload: structuredClone(row.accessTokenPayload),
        sessionData: structuredClone(row.sessionData),
      };
      await store.createSession(input);
      input.userId = "mallory";
      input.refreshTokenHash.fill(0);
      input.lineageHash?.fill(0);
      (input.sessionData.nested as { n: number }).n = 2;
      await unchanged();

      const found = (await store.findSession(row.handle)) as SessionRecord;
      found.userId = "mallory";
      found.refreshTokenHash.fill(0);
      found.prevRefreshTokenHash?.fill(0);
      found.lineageHash?.fill(0);
      (found.sessionData.nested as { n: number }).n = 3;
      found.accessTokenPayload.role = "root";
      await unchanged();

      const listed = (await store.listForUser("copy", NOW, { limit: 10 }))[0] as SessionMetadata;
      listed.expiresAt = 0;
      listed.persistent = false;
      await unchanged();

      await store.updateSession(row.handle, (current) => {
        current.revokedAt = NOW;
        current.refreshTokenHash.fill(0);
        current.lineageHash?.fill(0);
        (current.sessionData.nested as { n: number }).n = 5;
        return { result: null };
      });
      await unchanged();

      const update = { sessionData: { nested: { n: 6 } }, refreshTokenHash: Buffer.alloc(32, 6), lineageHash: Buffer.alloc(32, 8) };
      await store.updateSession(row.handle, () => ({ update, result: null }));
      update.refreshTokenHash.fill(0);
      update.lineageHash.fill(0);
      update.sessionData.nested.n = 7;
      expect(await store.findSession(row.handle)).toEqual({
        ...row,
        sessionData: { nested: { n: 6 } },
        refreshTokenHash: Buffer.alloc(32, 6),
        lineageHash: Buffer.alloc(32, 8),
      });
    });

    it("changing a claim invalidation handed out changes nothing stored", async () => {
      const store = await ready();
      await store.invalidateClaim("copy", "st-role", NOW);
      const [listed] = await store.listClaimInvalidationsSince(0);
      (listed as ClaimInvalidation).invalidatedAt = 0;
      (listed as ClaimInvalidation).key = "other";
      expect(await store.listClaimInvalidationsSince(0)).toEqual([{ userId: "copy", key: "st-role", invalidatedAt: NOW }]);
    });

    it("changing a signing key or a secret passed in or handed out changes nothing stored", async () => {
      const store = await ready();
      const original = key("k1");
      const input = { ...original };
      await store.insertSigningKey(input);
      input.privateKey = "changed";
      const listed = await store.listSigningKeys();
      (listed[0] as SigningKeyRecord).signsUntil = 0;
      expect(await store.listSigningKeys()).toEqual([original]);

      const candidate = Buffer.alloc(32, 1);
      await store.getOrCreateSecret("s", candidate);
      candidate.fill(2);
      (await store.getOrCreateSecret("s", Buffer.alloc(32, 3))).fill(4);
      expect(await store.getOrCreateSecret("s", Buffer.alloc(32, 5))).toEqual(Buffer.alloc(32, 1));
    });
  });
}
