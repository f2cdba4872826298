import type { SessionStore } from "../../lib";
import { NOW, byKid, pem, type Conformance } from "./fixtures";

/** Signing keys and the per-deployment secrets. */
export function keysConformance({ key, ready, sharedStores }: Conformance): void {
  describe("signing keys", () => {
    it("listSigningKeys round-trips every field of every key", async () => {
      const store = await ready();
      const rsa = key("rs256-k1");
      const ec = key("es256-k2", {
        algorithm: "ES256",
        publicKey: pem("PUBLIC KEY", "ec-public", 120),
        privateKey: pem("PRIVATE KEY", "ec-private", 200),
        createdAt: NOW + 10,
        signsFrom: NOW + 3_600_000,
        signsUntil: NOW + 7_200_000,
      });
      expect(await store.listSigningKeys()).toEqual([]);
      await store.insertSigningKey(ec);
      await store.insertSigningKey(rsa);
      expect((await store.listSigningKeys()).sort(byKid)).toEqual([ec, rsa]);
    });

    it("insertSigningKey keeps the first key of a kid, also when two instances race", async () => {
      const shared = sharedStores(2);
      const [a, b] = shared as [SessionStore, SessionStore];
      await Promise.all(shared.map((store) => store.init()));
      const first = key("k1");
      await a.insertSigningKey(first);
      await b.insertSigningKey(key("k1", { publicKey: "replaced", signsUntil: NOW + 1 }));
      expect(await b.listSigningKeys()).toEqual([first]);

      const fromA = key("k2", { privateKey: pem("PRIVATE KEY", "from-a", 900) });
      const fromB = key("k2", { privateKey: pem("PRIVATE KEY", "from-b", 900) });
      await Promise.all([a.insertSigningKey(fromA), b.insertSigningKey(fromB)]);
      const listed = (await a.listSigningKeys()).sort(byKid);
      expect(listed).toHaveLength(2);
      expect(listed[0]).toEqual(first);
      expect([fromA, fromB]).toContainEqual(listed[1]);
      expect((await b.listSigningKeys()).sort(byKid)).toEqual(listed);
    });

    it("deleteRetiredKeys deletes keys whose window ended before the time, and counts them", async () => {
      const store = await ready();
      const endsAtNow = key("k1", { signsFrom: NOW - 3_600_000, signsUntil: NOW });
      const endsLater = key("k2", { signsFrom: NOW, signsUntil: NOW + 1 });
      const current = key("k3", { signsFrom: NOW + 1, signsUntil: NOW + 3_600_000 });
      for (const k of [current, endsAtNow, endsLater]) await store.insertSigningKey(k);

      expect(await store.deleteRetiredKeys(NOW)).toBe(0);
      expect(await store.deleteRetiredKeys(NOW + 1)).toBe(1);
      expect((await store.listSigningKeys()).sort(byKid)).toEqual([endsLater, current]);
      expect(await store.deleteRetiredKeys(NOW + 3_600_001)).toBe(2);
      expect(await store.listSigningKeys()).toEqual([]);
    });
  });

  describe("getOrCreateSecret", () => {
    it("stores the first candidate byte-exact and returns it on every later call", async () => {
      const store = await ready();
      const first = Buffer.alloc(64, 0x20);
      first.set([0x00, 0xff, 0x27, 0x5c], 0);
      first[63] = 0x00;
      expect(await store.getOrCreateSecret("successor", first)).toEqual(first);
      expect(await store.getOrCreateSecret("successor", Buffer.alloc(64, 1))).toEqual(first);
      expect(await store.getOrCreateSecret("other", Buffer.alloc(32, 2))).toEqual(Buffer.alloc(32, 2));
      expect(await store.getOrCreateSecret("successor", Buffer.alloc(32, 3))).toEqual(first);
    });

    it("gives racing instances one and the same secret, one of their candidates", async () => {
      const shared = sharedStores(2);
      await Promise.all(shared.map((store) => store.init()));
      const candidates = Array.from({ length: 6 }, (_, i) => Buffer.alloc(32, i + 1));
      const secrets = await Promise.all(
        candidates.map((candidate, i) => (shared[i % 2] as SessionStore).getOrCreateSecret("s", candidate)),
      );
      const winner = secrets[0] as Buffer;
      expect(candidates).toContainEqual(winner);
      expect(secrets).toEqual(Array<Buffer>(6).fill(winner));
      expect(await (shared[1] as SessionStore).getOrCreateSecret("s", Buffer.alloc(32, 0xee))).toEqual(winner);
    });
  });
}
