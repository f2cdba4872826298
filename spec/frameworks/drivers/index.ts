import type { FrameworkDriver } from "../driver";
import { expressDriver } from "./express";

/** Every driver the framework conformance suite (spec/frameworks.spec.ts) runs against: one line each. */
export const DRIVERS: readonly FrameworkDriver[] = [
  expressDriver,
];
