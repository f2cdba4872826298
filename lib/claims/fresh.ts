import { AUTH_TIME_CLAIM } from "../tokens/reserved";
import { checkMaxAge, ownData } from "./checks";
import type { ClaimValidationResult, SessionClaimValidator } from "./claim";

/**
 * The id of {@link requireFresh}'s validator in a 403 body.
 *
 * @example
 * ```ts
 * if (body.claimValidationErrors.some((error) => error.id === FRESH_VALIDATOR_ID)) redirectToLogin();
 * ```
 */
export const FRESH_VALIDATOR_ID = "latchkey-fresh";

/**
 * A validator that passes when the user logged in at most `maxAgeSeconds` ago, read
 * from latchkey's `authTime` claim (seconds since the epoch, set at `createSession`,
 * kept across refreshes). Otherwise it fails with
 * `{ id: "latchkey-fresh", reason: { message: "session too old", ageInSeconds, maxAgeInSeconds } }`;
 * a token without a usable `authTime` fails the same way with `ageInSeconds: null`.
 *
 * It never asks for a refetch: only logging in again (`reauthenticate: true`) renews
 * `authTime`. Ask for it on sensitive routes: changing a password, deleting an account.
 *
 * @example
 * ```ts
 * app.post("/account/delete", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, requireFresh(300)] }), handler);
 * ```
 */
export function requireFresh(maxAgeSeconds: number): SessionClaimValidator {
  const maxAgeInSeconds = checkMaxAge("requireFresh()", "maxAgeSeconds", maxAgeSeconds, "Pass seconds, e.g. requireFresh(300) for five minutes.");
  return Object.freeze({
    id: FRESH_VALIDATOR_ID,
    claim: undefined,
    shouldRefetch(): boolean {
      return false;
    },
    validate(payload: Readonly<Record<string, unknown>>, nowMs: number): ClaimValidationResult {
      const authTime = ownData(payload, AUTH_TIME_CLAIM);
      // Without a login time the session cannot prove it is fresh: fail closed.
      if (typeof authTime !== "number" || !Number.isFinite(authTime)) {
        return { isValid: false, reason: { message: "session too old", ageInSeconds: null, maxAgeInSeconds } };
      }
      // Same rule as SuperTokens' "expired": exactly maxAge old still passes.
      const ageInSeconds = (nowMs - authTime * 1000) / 1000;
      if (ageInSeconds > maxAgeInSeconds) {
        return { isValid: false, reason: { message: "session too old", ageInSeconds, maxAgeInSeconds } };
      }
      return { isValid: true };
    },
  });
}
