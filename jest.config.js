// Every spec runs twice, on Express 5 and on Express 4 (installed as the "express4"
// alias), because latchkey supports both as a peer dependency.
const base = {
  testEnvironment: "node",
  roots: ["<rootDir>/spec"],
  testMatch: ["**/*.spec.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true, tsconfig: "tsconfig.json" }] },
  testTimeout: 20000,
};

module.exports = {
  globalSetup: "<rootDir>/spec/support/global-setup.js",
  globalTeardown: "<rootDir>/spec/support/global-teardown.js",
  projects: [
    { ...base, displayName: "express5" },
    { ...base, displayName: "express4", moduleNameMapper: { "^express$": "express4" } },
  ],
};
