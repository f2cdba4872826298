import express from "express";
import { describeEachStore } from "./helpers";
import { frameworkConformance } from "./frameworks/conformance";
import { DRIVERS } from "./frameworks/drivers";

// The framework conformance suite (issue 20 item 2): the same behaviours, over real HTTP, for
// every adapter's driver, on the memory and MySQL stores. The express4 jest project maps
// `express` to Express 4: only the Express driver depends on which Express is installed, so the
// others run once, in the express5 project.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const onExpress4 = express === require("express4");
const drivers = onExpress4 ? DRIVERS.filter((driver) => driver.name === "express") : DRIVERS;

for (const driver of drivers) {
  describeEachStore(`framework conformance: ${driver.name}`, (stores) => frameworkConformance(driver, stores));
}
