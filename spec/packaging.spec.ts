import { readFileSync } from "node:fs";
import path from "node:path";

// Quick in-repo checks of the package metadata. What the published package contains and how
// it loads, type-checks and runs once installed is install.pack.spec.ts (the "pack" project).
const root = path.resolve(__dirname, "..");
const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as Record<string, any>;

/** "1.4.7" -> [1, 4, 7] */
function parse(version: string): number[] {
  const match = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!match) throw new Error(`not a plain version: ${version}`);
  return match.slice(1).map(Number);
}

function atLeast(version: string, floor: string): boolean {
  const [a, b] = [parse(version), parse(floor)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

function installedVersion(name: string, from = root): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [from] }), "utf8")) as { version: string }).version;
}

describe("package.json", () => {
  it("is MIT licensed, with the licence text beside it", () => {
    expect(pkg.license).toBe("MIT");
    const text = readFileSync(path.join(root, "LICENSE"), "utf8");
    expect(text).toMatch(/^MIT License\n\nCopyright \(c\) 2026 the latchkey authors\n/);
    expect(text).toContain('THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND');
  });

  it("says where the project lives", () => {
    expect(pkg.repository).toEqual({ type: "git", url: "git+https://github.com/latchkey-js/latchkey.git" });
    expect(pkg.homepage).toBe("https://github.com/latchkey-js/latchkey#readme");
    expect(pkg.bugs).toEqual({ url: "https://github.com/latchkey-js/latchkey/issues" });
    expect(pkg.keywords).toEqual(expect.arrayContaining(["express", "session", "jwt", "mysql"]));
  });

  it("claims only the Node versions the suite runs on", () => {
    expect(pkg.engines).toEqual({ node: ">=20" });
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(20);
  });

  it.each([
    // name, security floor: the declared range may not admit anything older.
    ["cookie-parser", "1.4.7"],
    ["jsonwebtoken", "9.0.3"],
    ["mysql2", "3.23.1"], // the 2026 advisories
  ])("depends on %s with a caret range from at least %s, and the lockfile installs a version inside it", (name, floor) => {
    const range = pkg.dependencies[name] as string;
    expect(range).toMatch(/^\^\d+\.\d+\.\d+$/);
    const declared = range.slice(1);
    expect(atLeast(declared, floor)).toBe(true);
    const installed = installedVersion(name);
    expect(parse(installed)[0]).toBe(parse(declared)[0]);
    expect(atLeast(installed, declared)).toBe(true);
  });

  it("gets jws >= 4.0.1 through jsonwebtoken: its declared jws range starts there, and so does the installed jws", () => {
    const jsonwebtoken = path.dirname(require.resolve("jsonwebtoken/package.json", { paths: [root] }));
    const jwsRange = (JSON.parse(readFileSync(path.join(jsonwebtoken, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies.jws!;
    expect(jwsRange).toMatch(/^\^\d+\.\d+\.\d+$/);
    expect(atLeast(jwsRange.slice(1), "4.0.1")).toBe(true);
    expect(atLeast(installedVersion("jws", jsonwebtoken), "4.0.1")).toBe(true);
  });
});
