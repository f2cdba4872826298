import { createHash } from "node:crypto";
import mysql from "mysql2/promise";
import {
  mysqlStore,
  SCHEMA_VERSION,
  type ClaimInvalidation,
  type ExpiredSession,
  type RevokedHandle,
  type RevokedSession,
  type SessionMetadata,
  type SessionRecord,
  type SessionStore,
  type SessionUpdate,
  type SigningKeyRecord,
} from "../lib";
import { MIGRATIONS, schemaVersionTable } from "../lib/store/schema";
import { DATABASE_URL, type StoreFactory } from "./helpers";

const NOW = Date.UTC(2026, 10, 28, 12);
const DAY = 86_400_000;

/** Every key a listing shows of a session, and nothing else (no payload, no session data, no hash). */
const METADATA_KEYS = [
  "absoluteExpiresAt",
  "authTime",
  "createdAt",
  "expiresAt",
  "handle",
  "ip",
  "lastIp",
  "lastRefreshedAt",
  "lastUserAgent",
  "persistent",
  "userAgent",
  "userId",
];

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
      lineageHash: createHash("sha256").update(`lineage-${serial}`).digest(),
      rotatedAt: null,
      undelivered: false,
      accessTokenPayload: { role: "admin" },
      sessionData: { plan: "pro" },
      createdAt: NOW - 3_000,
      lastRefreshedAt: NOW - 2_000,
      authTime: NOW - 2_500,
      expiresAt: NOW + DAY,
      absoluteExpiresAt: NOW + 2 * DAY,
      idleTtl: 5_400_000,
      persistent: true,
      revokedAt: null,
      ip: "203.0.113.7",
      userAgent: "Firefox/140",
      lastIp: "198.51.100.23",
      lastUserAgent: "Chrome/139",
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
      await a.invalidateClaim("user-1", "st-role", NOW);

      await a.init();
      await Promise.all([b.init(), c.init()]);

      expect(await c.findSession(row.handle)).toEqual(row);
      expect(await b.listSigningKeys()).toEqual([key("k1")]);
      expect(await c.getOrCreateSecret("s", Buffer.alloc(32, 8))).toEqual(Buffer.alloc(32, 7));
      expect(await b.listClaimInvalidationsSince(0)).toEqual([{ userId: "user-1", key: "st-role", invalidatedAt: NOW }]);
    });
  });

  // The schema, its versions and `migrate: false` exist only where there are tables.
  if (stores.kind === "mysql") {
    describe("schema migration (MySQL only: the memory store has no schema)", () => {
      function migrateFalseStore(prefix: string): SessionStore {
        const store = mysqlStore(DATABASE_URL, { tablePrefix: prefix, migrate: false });
        opened.push(store);
        return store;
      }

      it("leaves schema_version at the latest version after init", async () => {
        const prefix = stores.newPrefix();
        await open(prefix).init();
        const versions = await query<{ version: number }>(`SELECT version FROM \`${prefix}schema_version\` ORDER BY version`);
        expect(versions.map((row) => Number(row.version))).toEqual(MIGRATIONS.map((m) => m.version));
        expect(Math.max(...versions.map((row) => Number(row.version)))).toBe(SCHEMA_VERSION);
        expect(await tablesOf(prefix)).toEqual(["claim_invalidations", "schema_version", "secrets", "sessions", "signing_keys"]);
      });

      it("with migrate: false on an empty prefix, rejects saying how to migrate, and creates no table", async () => {
        const prefix = stores.newPrefix();
        const store = migrateFalseStore(prefix);
        const failure = (await store.init().then(
          () => null,
          (error: unknown) => error,
        )) as (Error & { code?: unknown }) | null;
        expect(failure).toBeInstanceOf(Error);
        expect(failure?.code).toBe("LATCHKEY_SCHEMA_NOT_READY");
        expect(failure?.message).toContain("npx latchkey migrate");
        expect(await tablesOf(prefix)).toEqual([]);
        // Asking again changes nothing either.
        await expect(store.init()).rejects.toMatchObject({ code: "LATCHKEY_SCHEMA_NOT_READY" });
        expect(await tablesOf(prefix)).toEqual([]);
      });

      it("with migrate: false on a prefix another store migrated, works", async () => {
        const prefix = stores.newPrefix();
        await open(prefix).init();
        const store = migrateFalseStore(prefix);
        await store.init();
        const row = record({ userId: "no-ddl" });
        expect(await store.createSession(row)).toEqual([]);
        expect(await store.findSession(row.handle)).toEqual(row);
        await store.invalidateClaim("no-ddl", "role", NOW);
        expect(await store.listClaimInvalidationsSince(NOW)).toEqual([{ userId: "no-ddl", key: "role", invalidatedAt: NOW }]);
      });

      it("with migrate: false on a version 1 schema, rejects naming the version and adds no column", async () => {
        const prefix = stores.newPrefix();
        await createV1Schema(prefix);
        const store = migrateFalseStore(prefix);
        const failure = (await store.init().then(
          () => null,
          (error: unknown) => error,
        )) as (Error & { code?: unknown }) | null;
        expect(failure?.code).toBe("LATCHKEY_SCHEMA_NOT_READY");
        expect(failure?.message).toContain("npx latchkey migrate");
        expect(failure?.message).toContain("version 1");
        expect(await tablesOf(prefix)).toEqual(["schema_version", "secrets", "sessions", "signing_keys"]);
        expect(await columnsOf(`${prefix}sessions`)).not.toContain("lineage_hash");
      });

      it("upgrades a version 1 schema (also from three stores at once), keeping its rows readable with the new columns defaulted", async () => {
        const prefix = stores.newPrefix();
        await createV1Schema(prefix);
        const v1 = {
          handle: "00000000-0000-4000-8000-v1000000full",
          userId: "v1-user ü",
          refreshTokenHash: Buffer.alloc(32, 0x11),
          prevRefreshTokenHash: Buffer.alloc(32, 0x22),
          rotatedAt: NOW - 4_000,
          accessTokenPayload: { role: "legacy" },
          sessionData: { plan: "old" },
          createdAt: NOW - 9_000,
          lastRefreshedAt: NOW - 4_000,
          expiresAt: NOW + DAY,
          absoluteExpiresAt: NOW + 3 * DAY,
          revokedAt: null,
          ip: "192.0.2.1",
          userAgent: "Safari/17",
        };
        const sparseV1 = {
          ...v1,
          handle: "00000000-0000-4000-8000-v100000sparse",
          prevRefreshTokenHash: null,
          rotatedAt: null,
          createdAt: NOW - 8_000,
          revokedAt: NOW - 100,
          ip: null,
          userAgent: null,
        };
        await query(`INSERT INTO \`${prefix}sessions\` (${V1_COLUMNS.join(", ")}) VALUES (${V1_COLUMNS.map(() => "?").join(", ")})`, v1Row(v1));
        await query(`INSERT INTO \`${prefix}sessions\` (${V1_COLUMNS.join(", ")}) VALUES (${V1_COLUMNS.map(() => "?").join(", ")})`, v1Row(sparseV1));
        const oldKey = key("v1-key");
        await query(
          `INSERT INTO \`${prefix}signing_keys\` (kid, algorithm, public_key, private_key, created_at, signs_from, signs_until) VALUES (?, ?, ?, ?, ?, ?, ?)`,
          [oldKey.kid, oldKey.algorithm, oldKey.publicKey, oldKey.privateKey, oldKey.createdAt, oldKey.signsFrom, oldKey.signsUntil],
        );
        await query(`INSERT INTO \`${prefix}secrets\` (name, value, created_at) VALUES (?, ?, ?)`, ["s", Buffer.alloc(32, 0x33), NOW]);

        const shared = [open(prefix), open(prefix), open(prefix)];
        await Promise.all(shared.map((store) => store.init()));
        const store = shared[0] as SessionStore;

        const versions = await query<{ version: number }>(`SELECT version FROM \`${prefix}schema_version\` ORDER BY version`);
        expect(versions.map((row) => Number(row.version))).toEqual(MIGRATIONS.map((m) => m.version));
        const defaults = { lineageHash: null, undelivered: false, idleTtl: null, persistent: true, lastIp: null, lastUserAgent: null };
        const upgraded: SessionRecord = { ...v1, ...defaults, authTime: v1.createdAt };
        const upgradedSparse: SessionRecord = { ...sparseV1, ...defaults, authTime: sparseV1.createdAt };
        expect(await store.findSession(v1.handle)).toEqual(upgraded);
        expect(await store.findSession(sparseV1.handle)).toEqual(upgradedSparse);
        expect(await store.listForUser(v1.userId, NOW, { limit: 10 })).toEqual([metadata(upgraded)]);
        expect(await store.listSigningKeys()).toEqual([oldKey]);
        expect(await store.getOrCreateSecret("s", Buffer.alloc(32, 0x44))).toEqual(Buffer.alloc(32, 0x33));

        // The new columns work on the upgraded table, for old rows and new ones.
        const update: SessionUpdate = { lineageHash: Buffer.alloc(32, 0x55), undelivered: true, authTime: NOW, lastIp: "192.0.2.9", lastUserAgent: "Edge/130" };
        await store.updateSession(v1.handle, () => ({ update, result: null }));
        expect(await store.findSession(v1.handle)).toEqual({ ...upgraded, ...update });
        const fresh = record({ userId: v1.userId, idleTtl: 60_000, persistent: false });
        await store.createSession(fresh);
        expect(await store.findSession(fresh.handle)).toEqual(fresh);
        await store.invalidateClaim(v1.userId, "role", NOW);
        expect((await store.findSession(v1.handle))?.accessTokenPayload).toEqual({});
      });
    });
  }

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

function expiredOf({ handle, userId, revokedAt, ip, userAgent }: SessionRecord): ExpiredSession {
  return { handle, userId, revokedAt, ip, userAgent };
}

function revokedOf({ handle, userId, ip, userAgent }: SessionRecord): RevokedSession {
  return { handle, userId, ip, userAgent };
}

/** What a listing shows of a session. */
function metadata(row: SessionRecord): SessionMetadata {
  const { handle, userId, createdAt, lastRefreshedAt, authTime, expiresAt, absoluteExpiresAt, persistent, ip, userAgent, lastIp, lastUserAgent } = row;
  return { handle, userId, createdAt, lastRefreshedAt, authTime, expiresAt, absoluteExpiresAt, persistent, ip, userAgent, lastIp, lastUserAgent };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortByHandle<T extends { handle: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => compare(a.handle, b.handle));
}

function sortedHandles(rows: { handle: string }[]): string[] {
  return sortByHandle(rows).map((row) => row.handle);
}

function byTime(entries: ClaimInvalidation[]): ClaimInvalidation[] {
  return [...entries].sort((a, b) => a.invalidatedAt - b.invalidatedAt || compare(a.userId, b.userId) || compare(a.key, b.key));
}

function byKid(a: SigningKeyRecord, b: SigningKeyRecord): number {
  return a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0;
}

/** A clock that moves on by one millisecond each time it is read, and remembers what it said. */
function steppingClock(start: number): { now: () => number; readings: number[] } {
  const readings: number[] = [];
  return {
    readings,
    now: () => {
      readings.push(start + readings.length);
      return readings[readings.length - 1] as number;
    },
  };
}

/** The same items in a fixed pseudo-random order, so insertion order is not handle order. */
function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  let seed = 0x2545f491;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Inserts many sessions, a few at a time. */
async function createAll(store: SessionStore, rows: SessionRecord[], parallel = 8): Promise<void> {
  const queue = [...rows];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) await store.createSession(row);
    }),
  );
}

/** One statement on a connection of its own, outside any store. */
async function query<T = unknown>(sql: string, params: unknown[] = []): Promise<T[]> {
  const connection = await mysql.createConnection({ uri: DATABASE_URL });
  try {
    const [rows] = await connection.query(sql, params);
    return rows as T[];
  } finally {
    await connection.end();
  }
}

/** The tables of this prefix (without it), by name. */
async function tablesOf(prefix: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE() AND LEFT(table_name, ?) = ? ORDER BY table_name`,
    [prefix.length, prefix],
  );
  return rows.map((row) => String(row.name).slice(prefix.length));
}

async function columnsOf(table: string): Promise<string[]> {
  const rows = await query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?`,
    [table],
  );
  return rows.map((row) => String(row.name));
}

/** Tables as a latchkey 0.1 install left them: migration 1 only, schema version 1. */
async function createV1Schema(prefix: string): Promise<void> {
  await query(schemaVersionTable(prefix));
  for (const statement of (MIGRATIONS[0] as (typeof MIGRATIONS)[number]).statements(prefix)) await query(statement);
  await query(`INSERT INTO \`${prefix}schema_version\` (version, applied_at) VALUES (1, ?)`, [NOW - DAY]);
}

const V1_COLUMNS = [
  "session_handle",
  "user_id",
  "refresh_token_hash",
  "prev_refresh_token_hash",
  "rotated_at",
  "access_token_payload",
  "session_data",
  "created_at",
  "last_refreshed_at",
  "expires_at",
  "absolute_expires_at",
  "revoked_at",
  "ip",
  "user_agent",
];

interface V1Session {
  handle: string;
  userId: string;
  refreshTokenHash: Buffer;
  prevRefreshTokenHash: Buffer | null;
  rotatedAt: number | null;
  accessTokenPayload: Record<string, unknown>;
  sessionData: Record<string, unknown>;
  createdAt: number;
  lastRefreshedAt: number;
  expiresAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | null;
  ip: string | null;
  userAgent: string | null;
}

function v1Row(s: V1Session): unknown[] {
  return [
    s.handle,
    Buffer.from(s.userId, "utf8"),
    s.refreshTokenHash,
    s.prevRefreshTokenHash,
    s.rotatedAt,
    JSON.stringify(s.accessTokenPayload),
    JSON.stringify(s.sessionData),
    s.createdAt,
    s.lastRefreshedAt,
    s.expiresAt,
    s.absoluteExpiresAt,
    s.revokedAt,
    s.ip,
    s.userAgent,
  ];
}

/** PEM-shaped text of about `length` characters in 64-character lines. */
function pem(label: string, seed: string, length: number): string {
  const body = createHash("sha512").update(seed).digest("base64").repeat(Math.ceil(length / 88)).slice(0, length);
  return `-----BEGIN ${label}-----\n${body.replace(/.{64}/g, "$&\n")}\n-----END ${label}-----\n`;
}
