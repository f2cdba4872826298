import { createHmac, createPrivateKey, createPublicKey, generateKeyPair, randomBytes } from "node:crypto";
import type { KeyObject, webcrypto } from "node:crypto";
import { promisify } from "node:util";
import type { SessionStore, SigningKeyRecord } from "./store/store";

const generateKeyPairAsync = promisify(generateKeyPair);

export type SigningAlgorithm = SigningKeyRecord["algorithm"];

/** A public key as the JWKS publishes it. */
export type PublicJwk = webcrypto.JsonWebKey & { kid: string; alg: SigningAlgorithm; use: "sig" };

/** A signing key parsed once into `KeyObject`s: PEM text per sign or verify is many times slower. */
export interface LoadedKey {
  kid: string;
  algorithm: SigningAlgorithm;
  publicKey: KeyObject;
  privateKey: KeyObject;
  signsFrom: number;
  signsUntil: number;
  jwk: PublicJwk;
}

export interface KeyRingOptions {
  algorithm: SigningAlgorithm;
  rotationMs: number;
  accessTokenTtlMs: number;
  clock: () => number;
}

export const SUCCESSOR_SECRET = "refresh-successor";

// What #kidFor and rotateNow produce: "es256-<start in base 36>-<tag>", "rs256-r<time>-<random>".
const KID_SHAPE = /^(es|rs)256-r?[0-9a-z]{1,12}-[A-Za-z0-9_-]{8}$/;

/** The shortest time between two key reloads caused by unknown `kid`s. */
export const UNKNOWN_KID_RELOAD_MS = 5000;

/**
 * The signing keys every instance shares through the store, and the server secret
 * that derives refresh-token successors.
 *
 * Keys are cut into fixed slots of `rotationMs`, and a slot's key id is derived from the
 * slot itself, so two instances that create the same slot's key at once insert the same
 * `kid`: one insert wins and both read back the winner. The next slot's key is created
 * `leadMs` before it signs, and every instance reloads more often than that, so a key is
 * always published (in the JWKS and in every instance) before any token carries it.
 * A key stays verifiable for two access-token lifetimes after it stops signing.
 */
export class KeyRing {
  readonly #store: SessionStore;
  readonly #options: KeyRingOptions;
  readonly #keys = new Map<string, LoadedKey>();
  #secret: Buffer | undefined;
  #loading: Promise<void> | undefined;
  #loadedAt = -Infinity;
  #unknownKidReloadAt = -Infinity;

  constructor(store: SessionStore, options: KeyRingOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** True once keys and secret are in memory: verification then needs no I/O. */
  get ready(): boolean {
    return this.#secret !== undefined && this.#keys.size > 0;
  }

  /** How long before its slot a key is created and published. */
  get leadMs(): number {
    return Math.min(3_600_000, this.#options.rotationMs / 2);
  }

  /** How often instances re-read the keys table: several times per lead, so nobody misses a new key. */
  get reloadIntervalMs(): number {
    return Math.max(1000, Math.min(300_000, Math.floor(this.leadMs / 3)));
  }

  /**
   * True when the keys should be re-read before signing: the reload interval has passed
   * (a timer missed it, the database was down) or no loaded key covers the present.
   * Create and refresh check it, as they do I/O anyway; verification never does.
   */
  get stale(): boolean {
    const now = this.#options.clock();
    if (now - this.#loadedAt >= this.reloadIntervalMs) return true;
    for (const key of this.#keys.values()) if (key.signsFrom <= now && now < key.signsUntil) return false;
    return true;
  }

  /**
   * Re-reads the keys because a token named a `kid` this instance does not know (another
   * instance may have published it since the last reload); at most once per
   * {@link UNKNOWN_KID_RELOAD_MS}, so forged kids cannot turn requests into queries.
   * Resolves to whether it reloaded.
   */
  async reloadForUnknownKid(kid: unknown): Promise<boolean> {
    // Only a kid latchkey could have published (a slot key or an early rotation) is worth a query.
    if (typeof kid !== "string" || !KID_SHAPE.test(kid)) return false;
    const now = this.#options.clock();
    if (now - this.#unknownKidReloadAt < UNKNOWN_KID_RELOAD_MS) return false;
    this.#unknownKidReloadAt = now;
    await this.load();
    return true;
  }

  /** The secret that derives a presented refresh token's successor (same on every instance). */
  get successorSecret(): Buffer {
    if (!this.#secret) throw new Error("latchkey: keys are not loaded yet");
    return this.#secret;
  }

  /** Creates this slot's key (and the next one's, when due) and loads every key. Concurrent calls share one load. */
  load(): Promise<void> {
    this.#loading ??= this.#load().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /**
   * The key that signs now: the newest whose window covers the present, of the configured
   * algorithm when there is one. A slot that began under another algorithm (a deployment
   * that changed `algorithm`, or the 0.2 default) keeps its key until the slot ends, so
   * every instance always knows the key that signs.
   */
  signingKey(): LoadedKey {
    const now = this.#options.clock();
    let current: LoadedKey | undefined;
    let latest: LoadedKey | undefined;
    for (const key of this.#keys.values()) {
      if (key.signsFrom > now) continue;
      if (!latest || key.signsFrom > latest.signsFrom) latest = key;
      if (now < key.signsUntil && (!current || preferred(key, current, this.#options.algorithm))) current = key;
    }
    // Past every key's window (the store was unreachable at rotation time), keep signing
    // with the newest key rather than not at all; the next reload puts things right.
    const key = current ?? latest;
    if (!key) throw new Error("latchkey: no signing key is loaded");
    return key;
  }

  /**
   * Rotates ahead of schedule: publishes a new key now that starts signing two reload
   * intervals later, once every instance has loaded it (a timer may fire late once), and
   * signs until its slot ends. It has the algorithm of the key that signs now, so that the
   * instances, whatever `algorithm` says (the CLI does not know), prefer it. Resolves to the new key's id.
   */
  async rotateNow(): Promise<{ kid: string; signsFrom: number }> {
    const { rotationMs, clock } = this.#options;
    const algorithm = this.#keys.size > 0 ? this.signingKey().algorithm : this.#options.algorithm;
    const now = clock();
    const signsFrom = now + 2 * this.reloadIntervalMs;
    const record = await this.#generate(Math.floor(signsFrom / rotationMs), now, algorithm);
    record.kid = `${algorithm.toLowerCase()}-r${now.toString(36)}-${randomBytes(6).toString("base64url")}`;
    record.signsFrom = signsFrom;
    await this.#store.insertSigningKey(record);
    await this.load();
    return { kid: record.kid, signsFrom };
  }

  /** Deletes keys that can no longer verify anything (two access-token lifetimes after they stopped signing). */
  async deleteRetired(): Promise<number> {
    return this.#store.deleteRetiredKeys(this.#options.clock() - 2 * this.#options.accessTokenTtlMs);
  }

  /** The key a token names, while it may still verify; `undefined` for unknown or retired keys. */
  verificationKey(kid: unknown): LoadedKey | undefined {
    if (typeof kid !== "string") return undefined;
    const key = this.#keys.get(kid);
    if (!key) return undefined;
    const retiredAt = key.signsUntil + 2 * this.#options.accessTokenTtlMs;
    return this.#options.clock() < retiredAt ? key : undefined;
  }

  /**
   * Whether `kid` names a key of this deployment: one loaded, or a slot key derived from
   * this deployment's secret that has not been loaded yet. A JWT naming anything else was
   * signed by someone else (an identity provider's ID token sent along as a bearer). Before
   * the first load nothing can be told apart, and every latchkey-shaped kid counts.
   */
  isOwnKid(kid: unknown): boolean {
    if (typeof kid !== "string") return false;
    if (this.#keys.has(kid)) return true;
    if (!KID_SHAPE.test(kid)) return false;
    if (this.#secret === undefined) return true;
    const [algorithm, start] = kid.split("-") as [string, string];
    if (start.startsWith("r")) return false; // rotateNow's keys are published (loaded everywhere) before they sign
    const slot = parseInt(start, 36) / this.#options.rotationMs;
    return Number.isSafeInteger(slot) && this.#kidFor(slot, algorithm.toUpperCase() as SigningAlgorithm) === kid;
  }

  /** The public half of every key that may still verify, as a JWKS. */
  jwks(): { keys: PublicJwk[] } {
    return {
      keys: [...this.#keys.values()].filter((key) => this.verificationKey(key.kid) !== undefined).map((key) => key.jwk),
    };
  }

  /** Seconds a JWKS may be cached: until the next key is due to be published. */
  jwksMaxAgeSeconds(): number {
    const { rotationMs, clock } = this.#options;
    const now = clock();
    let publishAt = (Math.floor(now / rotationMs) + 1) * rotationMs - this.leadMs;
    if (publishAt <= now) publishAt += rotationMs;
    return Math.max(1, Math.ceil((publishAt - now) / 1000));
  }

  async #load(): Promise<void> {
    const { rotationMs, clock } = this.#options;
    const now = clock();
    const slot = Math.floor(now / rotationMs);
    // The secret comes first: slot key ids are derived from it (see #kidFor).
    this.#secret ??= await this.#store.getOrCreateSecret(SUCCESSOR_SECRET, randomBytes(32));
    const stored = await this.#store.listSigningKeys();
    const have = new Set(stored.map((key) => key.kid));
    const due: number[] = [];
    // The present needs a key of any algorithm; the next slot gets the configured one.
    if (!stored.some((key) => key.signsFrom <= now && now < key.signsUntil) && !have.has(this.#kidFor(slot))) due.push(slot);
    if (now >= (slot + 1) * rotationMs - this.leadMs && !have.has(this.#kidFor(slot + 1))) due.push(slot + 1);
    for (const dueSlot of due) await this.#store.insertSigningKey(await this.#generate(dueSlot, now));
    // Re-read after inserting: a racing instance's key may have won the slot.
    const records = due.length > 0 ? await this.#store.listSigningKeys() : stored;
    for (const record of records) {
      if (!this.#keys.has(record.kid)) this.#keys.set(record.kid, parse(record));
    }
    const kept = new Set(records.map((record) => record.kid));
    for (const kid of this.#keys.keys()) if (!kept.has(kid)) this.#keys.delete(kid);
    this.#loadedAt = now;
  }

  // The same on every instance of one deployment (so racing inserts collide and one
  // wins), and different between deployments (the tag is keyed by this database's own
  // secret), so a verifier trusting several issuers' JWKS never sees one kid twice.
  #kidFor(slot: number, algorithm = this.#options.algorithm): string {
    const { rotationMs } = this.#options;
    const tag = createHmac("sha256", this.successorSecret).update(`kid:${algorithm}:${slot}`).digest("base64url").slice(0, 8);
    return `${algorithm.toLowerCase()}-${(slot * rotationMs).toString(36)}-${tag}`;
  }

  async #generate(slot: number, now: number, algorithm = this.#options.algorithm): Promise<SigningKeyRecord> {
    const { rotationMs } = this.#options;
    const pair =
      algorithm === "RS256"
        ? await generateKeyPairAsync("rsa", { modulusLength: 2048 })
        : await generateKeyPairAsync("ec", { namedCurve: "P-256" });
    return {
      kid: this.#kidFor(slot, algorithm),
      algorithm,
      publicKey: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
      privateKey: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      createdAt: now,
      signsFrom: slot * rotationMs,
      signsUntil: (slot + 1) * rotationMs,
    };
  }
}

// Of two keys that both cover the present: the configured algorithm first, then the newer.
function preferred(candidate: LoadedKey, current: LoadedKey, algorithm: SigningAlgorithm): boolean {
  const rank = (key: LoadedKey) => (key.algorithm === algorithm ? 1 : 0);
  return rank(candidate) > rank(current) || (rank(candidate) === rank(current) && candidate.signsFrom > current.signsFrom);
}

function parse(record: SigningKeyRecord): LoadedKey {
  const publicKey = createPublicKey(record.publicKey);
  return {
    kid: record.kid,
    algorithm: record.algorithm,
    publicKey,
    privateKey: createPrivateKey(record.privateKey),
    signsFrom: record.signsFrom,
    signsUntil: record.signsUntil,
    jwk: { ...publicKey.export({ format: "jwk" }), kid: record.kid, alg: record.algorithm, use: "sig" },
  };
}
