import { execFile } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync } from "node:fs";
import path from "node:path";

// Type tests: the consumer projects in spec/types/ are compiled with tsc against the built
// declarations (dist/), as users compile against the published package. Each is strict with
// skipLibCheck off, so latchkey's shipped .d.ts files are checked beside @types/express (and
// @types/express-session). In them every line compiles except the ones marked
// `// @ts-expect-error`, which must be errors: tsc reports an unused directive as an error
// (TS2578), so "exits 0" proves both. It runs once (the "pack" project): types do not depend
// on which Express runs the suite.
//
// "latchkey" resolves through node_modules, as in an installed app: spec/types/node_modules/
// latchkey is a symlink to this package's root that beforeAll creates (node_modules/ is
// git-ignored), so its package.json "types"/"exports" lead to dist/index.d.ts.

const root = path.resolve(__dirname, "..");
const fixtures = path.join(__dirname, "types");
const tsc = path.join(root, "node_modules/.bin/tsc");
const entry = path.join(root, "dist/index.d.ts");

jest.setTimeout(600_000);

interface Compiled {
  code: number;
  /** Diagnostics, as tsc prints them with --pretty false (paths relative to the package root). */
  diagnostics: string;
  /** The program's files (--listFiles), absolute. */
  files: string[];
}

function compile(fixture: string): Promise<Compiled> {
  return new Promise((resolve, reject) => {
    execFile(
      tsc,
      ["-p", path.join(fixtures, fixture), "--pretty", "false", "--listFiles"],
      { cwd: root, encoding: "utf8", timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") return reject(error); // not an exit code: spawn failure or timeout
        const lines = `${stdout}${stderr}`.split("\n").filter((line) => line.trim() !== "");
        const files = lines.filter((line) => path.isAbsolute(line) && existsSync(line));
        let diagnostics = lines.filter((line) => !files.includes(line)).join("\n");
        if (!existsSync(entry)) diagnostics += "\n(dist/index.d.ts disappeared while tsc ran: was dist/ rebuilt meanwhile?)";
        resolve({ code: error ? (error.code as number) : 0, diagnostics, files });
      },
    );
  });
}

/** The fixture's own sources (not the shared files it includes from elsewhere). */
function sources(fixture: string): string[] {
  const dir = path.join(fixtures, fixture);
  return readdirSync(dir)
    .filter((name) => /\.(ts|mts|cts)$/.test(name))
    .map((name) => path.join(dir, name));
}

function expectDirectives(fixture: string): number {
  return sources(fixture).reduce((count, file) => count + (readFileSync(file, "utf8").match(/^\s*\/\/ @ts-expect-error\b/gm) ?? []).length, 0);
}

function newest(dir: string): { file: string; mtime: number } {
  let found = { file: dir, mtime: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const candidate = entry.isDirectory() ? newest(full) : { file: full, mtime: statSync(full).mtimeMs };
    if (candidate.mtime > found.mtime) found = candidate;
  }
  return found;
}

function linkPackage(): void {
  const modules = path.join(fixtures, "node_modules");
  const link = path.join(modules, "latchkey");
  const target = path.relative(modules, root); // "../../.."
  mkdirSync(modules, { recursive: true });
  let current: string | undefined;
  try {
    current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : "(not a symlink)";
  } catch {
    current = undefined;
  }
  if (current === target) return;
  if (current !== undefined) rmSync(link, { recursive: true, force: true });
  symlinkSync(target, link, "dir");
}

const results = new Map<string, Promise<Compiled>>();

// Two compilations at a time: each is a full tsc program (~20 s of one core).
function compileAll(names: string[]): void {
  const queue = [...names];
  const settle = new Map<string, { resolve: (value: Compiled) => void; reject: (error: unknown) => void }>();
  for (const name of names) results.set(name, new Promise((resolve, reject) => settle.set(name, { resolve, reject })));
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const { resolve, reject } = settle.get(name)!;
      await compile(name).then(resolve, reject);
    }
  };
  void Promise.all([worker(), worker()]);
}

function result(name: string): Promise<Compiled> {
  const found = results.get(name);
  if (!found) throw new Error(`no compilation of ${name}: the build check in beforeAll failed`);
  return found;
}

const COMPILING = [
  "default", //                 CommonJS consumer (node10 resolution, package.json "types")
  "node16", //                  the same files under module node16 (CommonJS), plus an .mts ES module
  "bundler", //                 the same files under module esnext + moduleResolution bundler
  "beside-express-session", //  @types/express-session in the program, latchkey at req.latchkey (TypeConfig)
  "session-request-route", //   (req: SessionRequest, res) => ... passed to app.get after verifySession()
  "readonly-session", //        Session's fields cannot be reassigned
  "management", //              SessionManagement typed by the augmented AccessTokenPayload
  "clash-skiplibcheck", //      the clash below with skipLibCheck: true: no diagnostic at all (documented)
];

beforeAll(async () => {
  if (!existsSync(tsc)) throw new Error(`${tsc} is missing: run npm install.`);
  if (!existsSync(entry)) {
    // Nothing is using a dist/ that does not exist: build it (what `npm test` does first).
    await new Promise<void>((resolve, reject) =>
      execFile("npm", ["run", "build"], { cwd: root, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        error ? reject(new Error(`dist/ is missing and \`npm run build\` failed:\n${stdout}\n${stderr}`)) : resolve(),
      ),
    );
  }
  const built = statSync(entry).mtimeMs;
  const source = newest(path.join(root, "lib"));
  if (source.mtime > built) {
    throw new Error(
      `dist/ is stale: ${path.relative(root, source.file)} changed after dist/index.d.ts was built. ` +
        "Run `npm run build` (npm test does) before running this spec on its own.",
    );
  }
  linkPackage();
  compileAll([...COMPILING, "clash"]);
});

describe.each(COMPILING)("the %s consumer project", (fixture) => {
  it("compiles: every line type-checks, and every @ts-expect-error line is an error", async () => {
    const { code, diagnostics } = await result(fixture);
    expect({ code, diagnostics }).toEqual({ code: 0, diagnostics: "" });
  });

  it("is a real consumer: strict, skipLibCheck off, all its files compiled against dist/", async () => {
    const { files } = await result(fixture);
    expect(files).toEqual(expect.arrayContaining([...sources(fixture), entry]));
    expect(files.filter((file) => file.startsWith(path.join(root, "lib") + path.sep))).toEqual([]);
  });
});

describe("tsconfig of the fixtures", () => {
  it.each([...COMPILING, "clash"])("%s: strict, noEmit, skipLibCheck as intended", async (fixture) => {
    const shown = await new Promise<string>((resolve, reject) =>
      execFile(tsc, ["-p", path.join(fixtures, fixture), "--showConfig"], { cwd: root, encoding: "utf8", timeout: 60_000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      ),
    );
    const options = (JSON.parse(shown) as { compilerOptions: Record<string, unknown> }).compilerOptions;
    expect({ strict: options.strict, noEmit: options.noEmit, skipLibCheck: options.skipLibCheck }).toEqual({
      strict: true,
      noEmit: true,
      skipLibCheck: fixture === "clash-skiplibcheck",
    });
  });

  it("has @ts-expect-error lines to prove, in every project that claims errors", () => {
    const counts = Object.fromEntries(["default", "node16", "beside-express-session", "readonly-session", "management", "clash-skiplibcheck"].map((name) => [name, expectDirectives(name)]));
    for (const [name, count] of Object.entries(counts)) expect({ name, some: count > 0 }).toEqual({ name, some: true });
  });
});

describe("latchkey and express-session in one app without TypeConfig", () => {
  it("does not compile (skipLibCheck off): the error names req.session's two types and latchkey's SessionSlot", async () => {
    const { code, diagnostics } = await result("clash");
    expect(code).not.toBe(0);
    // Every error is the one clash, reported where Express declares Request:
    //   error TS2430: Interface 'Request' incorrectly extends interface 'SessionSlot'.
    //     Types of property 'session' are incompatible.
    //       Type 'Session & Partial<SessionData>' is not assignable to type 'Session | undefined'.
    const codes = [...new Set(diagnostics.match(/error TS\d+/g))];
    expect({ codes, diagnostics }).toEqual({ codes: ["error TS2430"], diagnostics: expect.stringContaining("incorrectly extends interface 'SessionSlot'") });
    expect(diagnostics).toContain("Types of property 'session' are incompatible");
    expect(diagnostics).toContain("Type 'Session & Partial<SessionData>' is not assignable to type 'Session | undefined'");
  });

  it("with skipLibCheck: true compiles silently: req.session is express-session's, SessionRequest an intersection of both (clash-skiplibcheck/probe.ts)", async () => {
    // The TS2430 is in a .d.ts file, which skipLibCheck does not check. At run time
    // verifySession() then throws the TypeError naming the fix (lib/frameworks/express/property.ts).
    const { code, diagnostics } = await result("clash-skiplibcheck");
    expect({ code, diagnostics }).toEqual({ code: 0, diagnostics: "" });
  });
});

describe("the published declarations", () => {
  // Every .d.ts under dist/ (after `npm run build` pruned what no entry point reaches).
  function shipped(dir = path.join(root, "dist")): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return shipped(full);
      return entry.name.endsWith(".d.ts") ? [full] : [];
    });
  }

  it("name nothing of latchkey's machinery: no SessionManager, no @internal member, no Runtime, store statements or HTTP core", () => {
    const leaks = shipped().flatMap((file) => {
      const text = readFileSync(file, "utf8");
      const names = ["SessionManager", "@internal", "Runtime", "MySqlConnector", "TokenTransfer", "HttpRequest", "BackgroundWork"].filter((name) => text.includes(name));
      return names.map((name) => `${path.relative(root, file)}: ${name}`);
    });
    expect(leaks).toEqual([]);
  });

  it("ship only files an entry point reaches: the session operations, the HTTP core and the manager are not among them", () => {
    const files = shipped().map((file) => path.relative(path.join(root, "dist"), file));
    expect(files).toContain("index.d.ts");
    expect(files).toContain("session.d.ts");
    expect(files.filter((file) => /^(manager|sessions\/(admin|create|refresh|rotation|open|background)|http\/(verify|create|endpoints|transfer|credentials))\.d\.ts$/.test(file))).toEqual([]);
  });

  it("keep Session's constructor private: an app cannot build one, and its declaration names no parameter", () => {
    const text = readFileSync(path.join(root, "dist/session.d.ts"), "utf8");
    expect(text).toContain("private constructor();");
    expect(text).not.toMatch(/static open\(/);
  });
});
