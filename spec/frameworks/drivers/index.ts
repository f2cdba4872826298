import type { FrameworkDriver } from "../driver";
import { expressDriver } from "./express";
import { fastifyDriver } from "./fastify";
import { hapiDriver } from "./hapi";
import { lambdaV1Driver, lambdaV2Driver } from "./lambda";
import { koaDriver } from "./koa";
import { fetchDriver } from "./fetch";
import { nextAppDriver, nextDriver } from "./next";

/** Every driver the framework conformance suite (spec/frameworks.spec.ts) runs against: one line each. */
export const DRIVERS: readonly FrameworkDriver[] = [
  expressDriver,
  fastifyDriver,
  hapiDriver,
  lambdaV1Driver,
  lambdaV2Driver,
  koaDriver,
  fetchDriver,
  nextDriver,
  nextAppDriver,
];
