import { createHash } from "node:crypto";
import type {
  ClaimInvalidation,
  ExpiredSession,
  RevokedSession,
  SessionMetadata,
  SessionRecord,
  SessionStore,
  SigningKeyRecord,
} from "../../lib";
import type { StoreFactory } from "../helpers";

export const NOW = Date.UTC(2026, 10, 28, 12);
export const DAY = 86_400_000;

/** Every key a listing shows of a session, and nothing else (no payload, no session data, no hash). */
export const METADATA_KEYS = [
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

/** What every concern of the suite is handed: fixtures, and stores closed when each test ends. */
export interface Conformance {
  stores: StoreFactory;
  /** A session row; every field differs from every other row's, so a store that swaps or drops a column fails. */
  record(overrides?: Partial<SessionRecord>): SessionRecord;
  /** A signing key record with PEM-shaped keys. */
  key(kid: string, overrides?: Partial<SigningKeyRecord>): SigningKeyRecord;
  /** A store of the kind under test (on `prefix` for MySQL), closed when the test ends. */
  open(prefix?: string): SessionStore;
  /** An opened store, initialised. */
  ready(): Promise<SessionStore>;
  /** `count` stores on one schema, as that many app instances on one database have (one memory store, `count` times). */
  sharedStores(count: number): SessionStore[];
  /** Closes a store built some other way when the test ends. */
  track(store: SessionStore): void;
}

/**
 * Builds the fixtures for one run of the suite. Call it inside the run's describe block: it
 * registers the afterEach that closes the test's stores. One handle counter serves the
 * whole run, so handles ascend in the order rows are built.
 */
export function conformanceFixtures(stores: StoreFactory): Conformance {
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

  return { stores, record, key, open, ready, sharedStores, track: (store) => void opened.push(store) };
}

export function expiredOf({ handle, userId, revokedAt, ip, userAgent }: SessionRecord): ExpiredSession {
  return { handle, userId, revokedAt, ip, userAgent };
}

export function revokedOf({ handle, userId, ip, userAgent }: SessionRecord): RevokedSession {
  return { handle, userId, ip, userAgent };
}

/** What a listing shows of a session. */
export function metadata(row: SessionRecord): SessionMetadata {
  const { handle, userId, createdAt, lastRefreshedAt, authTime, expiresAt, absoluteExpiresAt, persistent, ip, userAgent, lastIp, lastUserAgent } = row;
  return { handle, userId, createdAt, lastRefreshedAt, authTime, expiresAt, absoluteExpiresAt, persistent, ip, userAgent, lastIp, lastUserAgent };
}

export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function sortByHandle<T extends { handle: string }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => compare(a.handle, b.handle));
}

export function sortedHandles(rows: { handle: string }[]): string[] {
  return sortByHandle(rows).map((row) => row.handle);
}

export function byTime(entries: ClaimInvalidation[]): ClaimInvalidation[] {
  return [...entries].sort((a, b) => a.invalidatedAt - b.invalidatedAt || compare(a.userId, b.userId) || compare(a.key, b.key));
}

export function byKid(a: SigningKeyRecord, b: SigningKeyRecord): number {
  return a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0;
}

/** A clock that moves on by one millisecond each time it is read, and remembers what it said. */
export function steppingClock(start: number): { now: () => number; readings: number[] } {
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
export function shuffled<T>(items: T[]): T[] {
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
export async function createAll(store: SessionStore, rows: SessionRecord[], parallel = 8): Promise<void> {
  const queue = [...rows];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) await store.createSession(row);
    }),
  );
}

/** PEM-shaped text of about `length` characters in 64-character lines. */
export function pem(label: string, seed: string, length: number): string {
  const body = createHash("sha512").update(seed).digest("base64").repeat(Math.ceil(length / 88)).slice(0, length);
  return `-----BEGIN ${label}-----\n${body.replace(/.{64}/g, "$&\n")}\n-----END ${label}-----\n`;
}
