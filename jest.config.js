// Every spec runs twice, on Express 5 and on Express 4 (installed as the "express4"
// alias), because latchkey supports both as a peer dependency. Specs that start heavy
// components of their own (a browser, a Galera cluster, a packed tarball, a NestJS or LoopBack app)
// run once, in a project of their own.
const SEPARATE = ["e2e", "galera", "pack", "nest", "loopback", "upgrade"];

const base = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  testMatch: ["**/*.spec.ts"],
  testPathIgnorePatterns: ["/node_modules/", `\\.(${SEPARATE.join("|")})\\.spec\\.ts$`],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
};

function separate(displayName, suffix) {
  return { ...base, displayName, testMatch: [`**/*.${suffix}.spec.ts`], testPathIgnorePatterns: ["/node_modules/"] };
}

module.exports = {
  globalSetup: "<rootDir>/spec/support/global-setup.js",
  globalTeardown: "<rootDir>/spec/support/global-teardown.js",
  testTimeout: 20000,
  // Most of a spec's time is spent waiting on MySQL, timers and the browser, not the CPU.
  maxWorkers: 3,
  projects: [
    { ...base, displayName: "express5" },
    { ...base, displayName: "express4", moduleNameMapper: { "^express$": "express4" } },
    // Real browsers driving the published SuperTokens frontend SDK (Debian's Chromium).
    separate("e2e", "e2e"),
    // A real three-node MariaDB Galera cluster started for the run (spec/support/galera.ts).
    separate("galera", "galera"),
    // `npm pack`, installed into a fresh app and loaded as users load it.
    separate("pack", "pack"),
    // A real NestJS app (platform-express, so Express 5) guarded by latchkey.
    separate("nest", "nest"),
    // A real LoopBack 4 app (@loopback/rest, its own Express 4) with latchkey mounted as LoopBack middleware.
    // uuid 14 (of @loopback/context) is ESM only, which Jest cannot require on Node 20: spec/support/uuid-cjs.js.
    { ...separate("loopback", "loopback"), moduleNameMapper: { "^uuid$": "<rootDir>/spec/support/uuid-cjs.js" } },
    // The previous release, built from git history, serving beside this one (a rolling upgrade).
    separate("upgrade", "upgrade"),
  ],
};
