import type { StoreFactory } from "../../helpers";
import type { FrameworkDriver } from "../driver";
import { frameworkFixtures } from "../support";
import { anchoringConformance } from "./anchoring";
import { claimsConformance } from "./claims";
import { csrfConformance } from "./csrf";
import { devicesConformance } from "./devices";
import { errorsConformance } from "./errors";
import { headerModeConformance } from "./header-mode";
import { managementConformance } from "./management";
import { wireLoginConformance } from "./wire-login";
import { wireRefreshConformance } from "./wire-refresh";
import { wireSignOutConformance } from "./wire-signout";

/**
 * The behaviour every framework adapter must have, over real HTTP against the driver's real
 * app (spec/frameworks/drivers/), run by spec/frameworks.spec.ts on the memory and MySQL
 * stores. One file per concern; the wire check's steps are numbered in the test names.
 */
export function frameworkConformance(driver: FrameworkDriver, stores: StoreFactory): void {
  const fixtures = frameworkFixtures(driver, stores);
  wireLoginConformance(fixtures);
  wireRefreshConformance(fixtures);
  wireSignOutConformance(fixtures);
  headerModeConformance(fixtures);
  csrfConformance(fixtures);
  claimsConformance(fixtures);
  devicesConformance(fixtures);
  anchoringConformance(fixtures);
  errorsConformance(fixtures);
  managementConformance(fixtures);
}
