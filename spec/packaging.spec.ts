import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

// The built package, loaded the two ways users load it. `npm test` builds first.
const root = path.resolve(__dirname, "..");
const EXPORTS = ["sessionMiddleware", "verifySession", "getSession", "errorHandler", "SessionError", "mysqlStore", "memoryStore", "sessionManager"];

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: "utf8", env: { ...process.env, LATCHKEY_DATABASE_URL: "" } });
}

describe("the built package", () => {
  beforeAll(() => {
    if (!existsSync(path.join(root, "dist/index.js"))) throw new Error("dist/ is missing: run `npm run build` (npm test does).");
  });

  it("loads with require()", () => {
    const out = node(["-e", `const l = require("latchkey"); console.log(JSON.stringify(${JSON.stringify(EXPORTS)}.map((n) => typeof l[n])))`]);
    expect(JSON.parse(out)).toEqual(EXPORTS.map(() => "function"));
  });

  it("loads with import { ... } from an ES module", () => {
    const out = node([
      "--input-type=module",
      "-e",
      `import { ${EXPORTS.join(", ")} } from "latchkey"; console.log(JSON.stringify([${EXPORTS.join(", ")}].map((x) => typeof x)))`,
    ]);
    expect(JSON.parse(out)).toEqual(EXPORTS.map(() => "function"));
  });

  it("ships type declarations, including the Express augmentation", () => {
    expect(existsSync(path.join(root, "dist/index.d.ts"))).toBe(true);
    expect(existsSync(path.join(root, "dist/types/express.d.ts"))).toBe(true);
  });
});
