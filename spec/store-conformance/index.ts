import type { StoreFactory } from "../helpers";
import { byValueConformance } from "./by-value";
import { claimInvalidationsConformance } from "./claim-invalidations";
import { cleanupConformance } from "./cleanup";
import { conformanceFixtures } from "./fixtures";
import { keysConformance } from "./keys";
import { listingConformance } from "./listing";
import { revocationConformance } from "./revocation";
import { schemaConformance } from "./schema";
import { sessionsConformance } from "./sessions";
import { updateSessionConformance } from "./update-session";

/**
 * The behaviour every SessionStore must have, run against the real memory and MySQL
 * stores by spec/store.spec.ts (a custom store can run it too). One file per concern;
 * MySQL-only cases (schema migration, row-lock scope) sit with their concern and run on
 * MySQL alone.
 */
export function storeConformance(stores: StoreFactory): void {
  const fixtures = conformanceFixtures(stores);
  schemaConformance(fixtures);
  sessionsConformance(fixtures);
  updateSessionConformance(fixtures);
  revocationConformance(fixtures);
  listingConformance(fixtures);
  cleanupConformance(fixtures);
  claimInvalidationsConformance(fixtures);
  keysConformance(fixtures);
  byValueConformance(fixtures);
}
