// Every spec runs twice, on Express 5 and on Express 4 (installed as the "express4"
// alias), because latchkey supports both as a peer dependency.
const base = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  testMatch: ["**/*.spec.ts"],
  testPathIgnorePatterns: ["/node_modules/", "\\.e2e\\.spec\\.ts$"],
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
};

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
    { ...base, displayName: "e2e", testMatch: ["**/*.e2e.spec.ts"], testPathIgnorePatterns: ["/node_modules/"] },
  ],
};
