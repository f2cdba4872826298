import type { SigningKeyRecord } from "../store/store";
import { table, time } from "./table";

/**
 * Where a key stands now: `signing` (the one key that signs new tokens), `ahead`
 * (published, so every instance and JWKS already holds it, and signs from `signsFrom`),
 * `superseded` (its window is still open but a newer key signs; it verifies), `retired`
 * (its window closed; it verifies the tokens it signed until they expire, then cleanup
 * deletes it).
 */
export type KeyStatus = "signing" | "ahead" | "superseded" | "retired";

/** A key as `keys list` shows it: never its private half, nor its public PEM. */
export interface ListedKey {
  kid: string;
  algorithm: SigningKeyRecord["algorithm"];
  createdAt: number;
  signsFrom: number;
  signsUntil: number;
  status: KeyStatus;
}

/**
 * Each key's status at `now`, oldest first. The key that signs is the one the instances
 * pick (lib/keys.ts, signingKey): the newest whose window covers now — a key published by
 * `keys rotate` supersedes its slot's key once it starts signing — else, when no window
 * covers now (no instance ran at the slot's start), the newest that ever started.
 */
export function keyStatuses(records: readonly SigningKeyRecord[], now: number): { keys: ListedKey[]; signing: string | null } {
  const started = records.filter((key) => key.signsFrom <= now);
  const newest = (keys: readonly SigningKeyRecord[]) =>
    keys.reduce<SigningKeyRecord | undefined>((best, key) => (!best || key.signsFrom > best.signsFrom ? key : best), undefined);
  const signing = newest(started.filter((key) => now < key.signsUntil)) ?? newest(started);
  const status = (key: SigningKeyRecord): KeyStatus =>
    key === signing ? "signing" : key.signsFrom > now ? "ahead" : now < key.signsUntil ? "superseded" : "retired";
  const keys = [...records]
    .sort((a, b) => a.signsFrom - b.signsFrom || (a.kid < b.kid ? -1 : 1))
    .map((key) => ({
      kid: key.kid,
      algorithm: key.algorithm,
      createdAt: key.createdAt,
      signsFrom: key.signsFrom,
      signsUntil: key.signsUntil,
      status: status(key),
    }));
  return { keys, signing: signing?.kid ?? null };
}

const STATUS_TEXT: Record<KeyStatus, string> = {
  signing: "signs now",
  ahead: "published ahead",
  superseded: "superseded (verifies)",
  retired: "retired (verifies until its tokens expire)",
};

/** The keys as an aligned table, then which key signs and what comes next. */
export function keyTable(listed: { keys: readonly ListedKey[]; signing: string | null }, now: number): string {
  if (listed.keys.length === 0) {
    return "No signing keys yet: the first instance to start creates them (or run `latchkey keys rotate`).\n";
  }
  const rows = listed.keys.map((key) => [key.kid, key.algorithm, time(key.signsFrom), time(key.signsUntil), STATUS_TEXT[key.status]]);
  const lines = [table(["kid", "algorithm", "signs from", "signs until", "status"], rows)];
  const current = listed.keys.find((key) => key.kid === listed.signing);
  if (current && current.signsUntil <= now) {
    lines.push(`No key's window covers now: ${current.kid} signs until an instance loads the keys and creates this slot's key.\n`);
  }
  const next = listed.keys.find((key) => key.status === "ahead");
  if (next) lines.push(`Next: ${next.kid} signs from ${time(next.signsFrom)}.\n`);
  return lines.join("");
}
