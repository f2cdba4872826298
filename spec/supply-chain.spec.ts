import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

describe("dependency floors and defensive use of jsonwebtoken", () => {
  const root = path.resolve(__dirname, "..");
  const atLeast = (version: string, floor: string) => {
    const [a, b] = [version, floor].map((v) => v.split(/[.-]/).slice(0, 3).map(Number)) as [number[], number[]];
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] ?? 0) > (b[i] ?? 0);
    return true;
  };

  it("#96/#98 every shipped copy of jsonwebtoken, jws, mysql2 and cookie is at or above its security floor", () => {
    const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; dev?: boolean }>;
    };
    const floors: Record<string, (version: string) => boolean> = {
      jsonwebtoken: (v) => atLeast(v, "9.0.3"),
      jws: (v) => (v.startsWith("3.") ? atLeast(v, "3.2.3") : atLeast(v, "4.0.1")),
      mysql2: (v) => atLeast(v, "3.17.0"),
      cookie: (v) => atLeast(v, "0.7.0"),
    };
    const found: Record<string, string[]> = {};
    for (const [location, entry] of Object.entries(lock.packages)) {
      const name = location.split("node_modules/").pop() as string;
      if (!(name in floors) || entry.dev || !entry.version) continue; // dev-only copies never ship
      (found[name] ??= []).push(entry.version);
      expect([location, floors[name]!(entry.version)]).toEqual([location, true]);
    }
    expect(Object.keys(found).sort()).toEqual(["cookie", "jsonwebtoken", "jws", "mysql2"]);
  });

  it("#97/#1 lib/ never decodes a JWT unverified, always pins algorithms, and never uses Math.random or uuid", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir)) {
        const full = path.join(dir, entry);
        if (statSync(full).isDirectory()) walk(full);
        else if (full.endsWith(".ts")) files.push(full);
      }
    };
    walk(path.join(root, "lib"));
    let verifyCalls = 0;
    for (const file of files) {
      const source = readFileSync(file, "utf8");
      expect([file, /\bjwt\.decode\b|\bdecode\s*\(\s*token/.test(source)]).toEqual([file, false]);
      expect([file, /Math\.random|from "uuid"/.test(source)]).toEqual([file, false]);
      for (const match of source.matchAll(/jwt\.verify\(/g)) {
        verifyCalls++;
        expect(source.slice(match.index, (match.index ?? 0) + 400)).toMatch(/algorithms:\s*\[/);
      }
    }
    expect(verifyCalls).toBeGreaterThan(0);
  });
});
