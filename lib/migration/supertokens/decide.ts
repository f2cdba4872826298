import { createHmac, timingSafeEqual } from "node:crypto";
import type { SessionRecord } from "../../store/store";
import { hashRefreshToken } from "../../tokens/refresh";
import type { CoreRow } from "./core-tables";
import { sha256hex, type CoreRefreshToken } from "./refresh-token";

/**
 * The decision table of reference B.7 for a decrypted core refresh token, taken under the
 * locks of the core row and the latchkey row of its handle. Pure and synchronous, like
 * `decideRefresh`: the transaction may run it again after a write conflict.
 */
export type CoreDecision =
  | { kind: "refused"; reason: string }
  /** Rule 3: the core would accept the token; `anchor` is the row's hash at this instant. */
  | { kind: "migrate"; anchor: Buffer; successor: Successor }
  /** Rule 5: the session was migrated from this anchor within the grace window: the same successor again. */
  | { kind: "reissue"; record: SessionRecord; successor: Successor }
  /** Rule 4: a stale lineage with no latchkey row: the core row goes. */
  | { kind: "core-theft"; row: CoreRow; reason: string }
  /** Rule 6: a core token of a session latchkey now holds, and not the anchor's within grace. */
  | { kind: "theft"; record: SessionRecord; reason: string };

export interface DecisionContext {
  now: number;
  /** latchkey's `refreshGrace`. */
  graceMs: number;
  /** The core's `refresh_token_rotation_grace_period` (12.1 rows only). */
  coreGraceMs: number;
  secret: Buffer;
  /** Re-deciding after a COMMIT whose answer was lost: this request's own migration may have landed. */
  resolving: boolean;
}

export interface Successor {
  token: string;
  lineage: string;
}

/**
 * The latchkey token that succeeds a core session: an HMAC of the row's anchor (its current
 * `refresh_token_hash_2`), not of the presented token, so that every token the core would
 * accept at that instant (the current one and each of its un-promoted children) gets the same
 * successor on any instance. The labels keep it apart from `successorOf`'s inputs.
 */
export function coreSuccessor(handle: string, anchor: Buffer, secret: Buffer): Successor {
  const lineage = migratedLineage(handle, secret);
  const next = createHmac("sha256", secret).update(`st-core:${handle}:${anchor.toString("hex")}`).digest("base64url");
  return { token: `${handle}.${lineage}.${next}`, lineage };
}

/**
 * The lineage of a migrated session: of its handle alone (a session migrates once), so the
 * row's `lineage_hash`, which every later rotation keeps, tells a migrated session from a
 * latchkey-born one without any new column (`npx latchkey supertokens status` counts them).
 */
export function migratedLineage(handle: string, secret: Buffer): string {
  return createHmac("sha256", secret).update(`st-core-lineage:${handle}`).digest().subarray(0, 16).toString("base64url");
}

export function decideCore(token: CoreRefreshToken, core: CoreRow | null, latchkey: SessionRecord | null, context: DecisionContext): CoreDecision {
  const { now } = context;
  // What this token proves it descends from: itself (current) or its parent (an un-promoted child).
  const anchors = [token.hash2];
  if (token.parentHash1 !== undefined) anchors.push(Buffer.from(sha256hex(token.parentHash1), "hex"));

  if (latchkey) {
    if (latchkey.revokedAt !== null || latchkey.expiresAt <= now || latchkey.absoluteExpiresAt <= now) {
      return { kind: "refused", reason: "session revoked or expired" };
    }
    const anchor = anchors.find((candidate) => same(latchkey.prevRefreshTokenHash, candidate));
    if (anchor !== undefined) {
      const successor = coreSuccessor(token.handle, anchor, context.secret);
      const withinGrace = latchkey.rotatedAt !== null && now - latchkey.rotatedAt <= context.graceMs;
      if ((withinGrace || context.resolving) && same(latchkey.refreshTokenHash, hashRefreshToken(successor.token))) {
        return { kind: "reissue", record: latchkey, successor };
      }
    }
    return { kind: "theft", record: latchkey, reason: "a SuperTokens refresh token of a session already moved to latchkey was presented" };
  }

  if (!core || core.expiresAt < now) return { kind: "refused", reason: "no live SuperTokens session for this refresh token" };
  const current = anchors.some((candidate) => same(core.hash2, candidate));
  // 12.1 rows: the token the last rotation replaced, within the core's own grace window.
  const recentPrev = core.prevHash2 !== null && core.rotatedAt !== null && same(core.prevHash2, token.hash2) && now <= core.rotatedAt + context.coreGraceMs;
  if (current || recentPrev) return { kind: "migrate", anchor: core.hash2, successor: coreSuccessor(token.handle, core.hash2, context.secret) };
  return { kind: "core-theft", row: core, reason: "a SuperTokens refresh token that is no longer current was presented" };
}

function same(a: Buffer | null, b: Buffer): boolean {
  return a !== null && a.length === b.length && timingSafeEqual(a, b);
}
