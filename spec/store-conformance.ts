import { createHash } from "node:crypto";
import type { ExpiredSession, SessionRecord, SessionStore, SigningKeyRecord } from "../lib";
import type { StoreFactory } from "./helpers";

const NOW = Date.UTC(2026, 10, 28, 12);
const DAY = 86_400_000;

/**
 * The behaviour every SessionStore must have, run against the real memory and MySQL
 * stores by spec/store.spec.ts (a custom store can run it too). Every field of a
 * fixture differs from every other, so a store that swaps or drops a column fails.
 */
export function storeConformance(stores: StoreFactory): void {
  let serial = 0;

  function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
    serial++;
    return {
      handle: `00000000-0000-4000-8000-${String(serial).padStart(12, "0")}`,
      userId: "user-1",
      refreshTokenHash: createHash("sha256").update(`refresh-${serial}`).digest(),
      prevRefreshTokenHash: null,
      rotatedAt: null,
      accessTokenPayload: { role: "admin" },
      sessionData: { plan: "pro" },
      createdAt: NOW - 3_000,
      lastRefreshedAt: NOW - 2_000,
      expiresAt: NOW + DAY,
      absoluteExpiresAt: NOW + 2 * DAY,
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
      publicKey: pem("PUBLIC KEY", `${kid}-public`, 400),
      privateKey: pem("PRIVATE KEY", `${kid}-private`, 1700),
      createdAt: NOW - 60_000,
      signsFrom: NOW,
      signsUntil: NOW + 3_600_000,
      ...overrides,
    };
  }

  // Close each test's stores when it ends rather than when the file does: forty idle
  // pools would hold connections that other spec files running alongside need.
  const opened: SessionStore[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
  });

  function open(prefix?: string): SessionStore {
    const store = stores.create(prefix);
    opened.push(store);
    return store;
  }

  async function ready(): Promise<SessionStore> {
    const store = open();
    await store.init();
    return store;
  }

  /**
   * `count` stores on one schema, as that many app instances on one database have. The
   * memory store is not shared between instances, so there it is one store, `count` times.
   */
  function sharedStores(count: number): SessionStore[] {
    if (stores.kind === "memory") return Array<SessionStore>(count).fill(open());
    const prefix = stores.newPrefix();
    return Array.from({ length: count }, () => open(prefix));
  }

  describe("init", () => {
    it("is idempotent: run twice, and by three stores on one schema at once, it keeps what is stored", async () => {
      const shared = sharedStores(3);
      const [a, b, c] = shared as [SessionStore, SessionStore, SessionStore];
      await Promise.all(shared.map((store) => store.init()));
      const row = record();
      await a.createSession(row);
      await a.insertSigningKey(key("k1"));
      await a.getOrCreateSecret("s", Buffer.alloc(32, 7));

      await a.init();
      await Promise.all([b.init(), c.init()]);

      expect(await c.findSession(row.handle)).toEqual(row);
      expect(await b.listSigningKeys()).toEqual([key("k1")]);
      expect(await c.getOrCreateSecret("s", Buffer.alloc(32, 8))).toEqual(Buffer.alloc(32, 7));
    });
  });

  describe("createSession and findSession", () => {
    it("round-trip every field byte-exact", async () => {
      const store = await ready();
      const refreshTokenHash = Buffer.alloc(32);
      refreshTokenHash.set([0x27, 0x22, 0x5c, 0x00, 0x0a, 0x0d, 0x1a, 0xff, 0x80], 1); // leading and trailing 0x00
      const prevRefreshTokenHash = Buffer.alloc(32, 0x20); // all spaces: nothing may trim them
      prevRefreshTokenHash[0] = 0xfe;
      const full = record({
        userId: `o'brien"; DROP TABLE x; -- \u0000 😀 ü`,
        refreshTokenHash,
        prevRefreshTokenHash,
        rotatedAt: NOW - 1_000,
        accessTokenPayload: {
          "kéy 😀": "välue",
          quote: `it's "q" \\ \u0000 end`,
          nested: { list: [1, -2.5, "two", null, true, false, [], {}], deep: { deeper: { deepest: "🦄" } } },
          big: Number.MAX_SAFE_INTEGER,
          separators: "a\u2028b\nc\td",
        },
        sessionData: { nul: "a\u0000b", cjk: "漢字", rtl: "שלום", combining: "e\u0301", empty: {}, list: [] },
        revokedAt: NOW - 500,
        ip: "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
        userAgent: `Mozilla/5.0 "quoted" it's \\ ü 😀`,
      });
      const sparse = record({
        userId: "😀".repeat(255), // 1020 bytes: the most the column holds
        accessTokenPayload: {},
        sessionData: {},
        ip: null,
        userAgent: null,
      });
      await store.createSession(full);
      await store.createSession(sparse);

      expect(await store.findSession(full.handle)).toEqual(full);
      expect(await store.findSession(sparse.handle)).toEqual(sparse);
      // toEqual would also accept a Uint8Array; callers rely on Buffer methods.
      const found = (await store.findSession(full.handle)) as SessionRecord;
      expect([Buffer.isBuffer(found.refreshTokenHash), Buffer.isBuffer(found.prevRefreshTokenHash)]).toEqual([true, true]);
      expect(await store.listForUser(sparse.userId, NOW)).toEqual([sparse]);
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
  });

  describe("updateSession", () => {
    it("hands decide the current row, applies its update (every column) to that row only, and passes its result", async () => {
      const store = await ready();
      const row = record({ prevRefreshTokenHash: Buffer.alloc(32, 1), rotatedAt: NOW - 1_000 });
      const neighbour = record();
      await store.createSession(row);
      await store.createSession(neighbour);
      const update = {
        refreshTokenHash: Buffer.alloc(32, 9),
        prevRefreshTokenHash: null,
        rotatedAt: NOW + 1,
        lastRefreshedAt: NOW + 2,
        expiresAt: NOW + 3,
        revokedAt: NOW + 4,
        accessTokenPayload: { role: "viewer", "😀": [1, { two: 2 }] },
        sessionData: { plan: "team", note: `"it's" \u0000` },
      };
      const result = { outcome: "rotated" };
      const seen: SessionRecord[] = [];

      const answer = await store.updateSession(row.handle, (current) => {
        seen.push(current);
        return { update, result };
      });

      expect(answer).toBe(result);
      expect(seen).toEqual([row]);
      expect(await store.findSession(row.handle)).toEqual({ ...row, ...update });
      expect(await store.findSession(neighbour.handle)).toEqual(neighbour);
      // The next decide sees the state the last update left.
      expect(await store.updateSession(row.handle, (current) => ({ result: current }))).toEqual({ ...row, ...update });
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

  describe("revokeAllForUser", () => {
    it("revokes exactly the user's un-revoked sessions, at the given time, and names them", async () => {
      const store = await ready();
      const mine = [record({ userId: "alice" }), record({ userId: "alice", createdAt: NOW - 9_000 })];
      const revokedBefore = record({ userId: "alice", revokedAt: NOW - 1 });
      const others = [record({ userId: "Alice" }), record({ userId: "alice " }), record({ userId: "bob" })];
      for (const row of [others[0], mine[0], revokedBefore, others[1], mine[1], others[2]] as SessionRecord[]) {
        await store.createSession(row);
      }

      const handles = await store.revokeAllForUser("alice", NOW + 5);

      expect([...handles].sort()).toEqual(mine.map((row) => row.handle).sort());
      for (const row of mine) expect(await store.findSession(row.handle)).toEqual({ ...row, revokedAt: NOW + 5 });
      expect(await store.findSession(revokedBefore.handle)).toEqual(revokedBefore);
      for (const row of others) expect(await store.findSession(row.handle)).toEqual(row);
      expect(await store.revokeAllForUser("alice", NOW + 6)).toEqual([]);
      expect(await store.revokeAllForUser("nobody", NOW)).toEqual([]);
    });
  });

  describe("listForUser", () => {
    it("lists the user's live sessions only, oldest first, comparing user ids byte-exact", async () => {
      const store = await ready();
      const oldest = record({ userId: "bob", createdAt: NOW - 300 });
      const expiresNext = record({ userId: "bob", createdAt: NOW - 200, expiresAt: NOW + 1 });
      const endsNext = record({ userId: "bob", createdAt: NOW - 100, expiresAt: NOW + 1, absoluteExpiresAt: NOW + 1 });
      const excluded = [
        record({ userId: "bob", revokedAt: NOW - 1 }),
        record({ userId: "bob", expiresAt: NOW }),
        record({ userId: "bob", absoluteExpiresAt: NOW }),
        record({ userId: "Bob" }),
        record({ userId: "BOB" }),
        record({ userId: "bob " }),
        record({ userId: "bob\u0000" }),
      ];
      for (const row of [endsNext, ...excluded.slice(0, 4), oldest, ...excluded.slice(4), expiresNext]) {
        await store.createSession(row);
      }

      expect(await store.listForUser("bob", NOW)).toEqual([oldest, expiresNext, endsNext]);
      expect(await store.listForUser("bob", NOW + 1)).toEqual([oldest]);
      expect(await store.listForUser("nobody", NOW)).toEqual([]);
    });

    it("tells apart user ids that differ only in Unicode normalisation", async () => {
      const store = await ready();
      const composed = record({ userId: "jos\u00e9" });
      const decomposed = record({ userId: "jose\u0301" });
      await store.createSession(composed);
      await store.createSession(decomposed);
      expect(await store.listForUser("jos\u00e9", NOW)).toEqual([composed]);
      expect(await store.listForUser("jose\u0301", NOW)).toEqual([decomposed]);
    });
  });

  describe("listRevokedSince", () => {
    it("names every session revoked at or after the time, of any user, oldest revocation first", async () => {
      const store = await ready();
      const early = record({ revokedAt: NOW - 1 });
      const atEdge = record({ revokedAt: NOW });
      const late = record({ userId: "someone-else", revokedAt: NOW + 100 });
      for (const row of [late, early, record(), atEdge]) await store.createSession(row);

      expect(await store.listRevokedSince(NOW)).toEqual([
        { handle: atEdge.handle, revokedAt: NOW },
        { handle: late.handle, revokedAt: NOW + 100 },
      ]);
      expect(await store.listRevokedSince(NOW + 101)).toEqual([]);
    });
  });

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
  });

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

  describe("records cross the boundary by value", () => {
    it("changing a session passed in or handed out changes nothing stored", async () => {
      const store = await ready();
      const row = record({ userId: "copy", prevRefreshTokenHash: Buffer.alloc(32, 4), sessionData: { nested: { n: 1 } } });
      const unchanged = async () => expect(await store.findSession(row.handle)).toEqual(row);

      const input: SessionRecord = {
        ...row,
        refreshTokenHash: Buffer.from(row.refreshTokenHash),
        accessTokenPayload: structuredClone(row.accessTokenPayload),
        sessionData: structuredClone(row.sessionData),
      };
      await store.createSession(input);
      input.userId = "mallory";
      input.refreshTokenHash.fill(0);
      (input.sessionData.nested as { n: number }).n = 2;
      await unchanged();

      const found = (await store.findSession(row.handle)) as SessionRecord;
      found.userId = "mallory";
      found.refreshTokenHash.fill(0);
      found.prevRefreshTokenHash?.fill(0);
      (found.sessionData.nested as { n: number }).n = 3;
      found.accessTokenPayload.role = "root";
      await unchanged();

      const listed = (await store.listForUser("copy", NOW))[0] as SessionRecord;
      listed.expiresAt = 0;
      listed.refreshTokenHash.fill(0);
      (listed.sessionData.nested as { n: number }).n = 4;
      await unchanged();

      await store.updateSession(row.handle, (current) => {
        current.revokedAt = NOW;
        current.refreshTokenHash.fill(0);
        (current.sessionData.nested as { n: number }).n = 5;
        return { result: null };
      });
      await unchanged();

      const update = { sessionData: { nested: { n: 6 } }, refreshTokenHash: Buffer.alloc(32, 6) };
      await store.updateSession(row.handle, () => ({ update, result: null }));
      update.refreshTokenHash.fill(0);
      update.sessionData.nested.n = 7;
      expect(await store.findSession(row.handle)).toEqual({
        ...row,
        sessionData: { nested: { n: 6 } },
        refreshTokenHash: Buffer.alloc(32, 6),
      });
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

function expiredOf({ handle, userId, revokedAt, ip, userAgent }: SessionRecord): ExpiredSession {
  return { handle, userId, revokedAt, ip, userAgent };
}

function byKid(a: SigningKeyRecord, b: SigningKeyRecord): number {
  return a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0;
}

/** PEM-shaped text of about `length` characters in 64-character lines. */
function pem(label: string, seed: string, length: number): string {
  const body = createHash("sha512").update(seed).digest("base64").repeat(Math.ceil(length / 88)).slice(0, length);
  return `-----BEGIN ${label}-----\n${body.replace(/.{64}/g, "$&\n")}\n-----END ${label}-----\n`;
}
