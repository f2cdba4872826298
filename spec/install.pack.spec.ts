import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

// The published shape, as a user meets it: `npm pack` the project, install the tarball into
// a fresh app next to Express, then load it from CommonJS and an ES module, compile a strict
// TypeScript consumer against the shipped declarations, and run the CLI through npx.
// It uses the build in dist/ (`npm test` builds first) and the local npm cache.

const root = path.resolve(__dirname, "..");
const rootPackage = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as {
  devDependencies: Record<string, string>;
};
const tsc = path.join(root, "node_modules/.bin/tsc");
const EXPORTS = ["sessionMiddleware", "verifySession", "getSession", "errorHandler", "sessionManager", "mysqlStore", "memoryStore", "SessionError"];
const REQUIRED_FILES = ["package.json", "LICENSE", "README.md", "CHANGELOG.md", "dist/index.js", "dist/index.d.ts", "dist/cli.js"];

jest.setTimeout(120_000);

const run = promisify(execFile);
// npm passes its own configuration down through npm_* variables when the suite runs under
// `npm test` (npm_config_local_prefix=/work/main among them): the fresh app must not see them,
// or its `npm install` would act on this project instead.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|init_cwd$)/i.test(key)));
const env = { ...cleanEnv, LATCHKEY_DATABASE_URL: "", NO_UPDATE_NOTIFIER: "1" };

async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${path.basename(command)} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`);
  }
}

let temp: string;
let app: string;
let shipped: string[];
let installed: string;

beforeAll(async () => {
  for (const file of ["dist/index.js", "dist/index.d.ts", "dist/cli.js"]) {
    if (!existsSync(path.join(root, file))) throw new Error(`${file} is missing: run \`npm run build\` first (npm test does).`);
  }
  temp = mkdtempSync(path.join(os.tmpdir(), "latchkey-pack-"));
  const packDir = path.join(temp, "pack");
  app = path.join(temp, "app");
  mkdirSync(packDir);
  mkdirSync(app);

  const [packed] = JSON.parse(await sh("npm", ["pack", "--json", "--pack-destination", packDir], root)) as {
    filename: string;
    files: { path: string }[];
  }[];
  shipped = packed!.files.map((file) => file.path).sort();

  writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "fresh-app", version: "1.0.0", private: true }, null, 2));
  await sh(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=error",
      path.join(packDir, path.basename(packed!.filename)),
      // The versions this project tests with, so that they come from the local cache. @types/node
      // is pinned to the tested Node 20 line: without it @types/express brings the latest.
      `express@${rootPackage.devDependencies.express}`,
      `@types/express@${rootPackage.devDependencies["@types/express"]}`,
      `@types/node@${rootPackage.devDependencies["@types/node"]}`,
    ],
    app,
  );
  installed = path.join(app, "node_modules/latchkey");
});

afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
});

describe("the tarball", () => {
  it("ships the build, the licence and the docs, and nothing else", () => {
    expect(shipped).toEqual(expect.arrayContaining(REQUIRED_FILES));
    const stray = shipped.filter((file) => !file.startsWith("dist/") && !["package.json", "LICENSE", "README.md", "CHANGELOG.md"].includes(file));
    expect(stray).toEqual([]); // no spec/, sample-app/, bench/, lib/, docs/, configs
    expect(shipped.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
    expect(readFileSync(path.join(installed, "LICENSE"), "utf8")).toMatch(/^MIT License/);
  });

  it("ships source maps that resolve: every map embeds its sources, and every sourceMappingURL names a shipped map", () => {
    const maps = shipped.filter((file) => file.endsWith(".map"));
    expect(maps).toContain("dist/index.js.map");
    for (const file of maps) {
      const map = JSON.parse(readFileSync(path.join(installed, file), "utf8")) as { sources: string[]; sourcesContent?: unknown[] };
      expect({ file, sourcesContent: map.sourcesContent?.length }).toEqual({ file, sourcesContent: map.sources.length });
      for (const content of map.sourcesContent!) expect(typeof content === "string" && content.length > 0).toBe(true);
    }
    for (const file of shipped.filter((name) => name.endsWith(".js") || name.endsWith(".d.ts"))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(path.join(installed, file), "utf8"))?.[1];
      if (url) expect({ file, map: shipped.includes(path.posix.join(path.posix.dirname(file), url)) }).toEqual({ file, map: true });
    }
  });
});

describe("the installed package", () => {
  it("loads with require() from CommonJS", async () => {
    const out = await sh(process.execPath, ["-e", `const l = require("latchkey"); console.log(JSON.stringify(${JSON.stringify(EXPORTS)}.map((n) => [n, typeof l[n]])))`], app);
    expect(Object.fromEntries(JSON.parse(out))).toEqual(Object.fromEntries(EXPORTS.map((name) => [name, "function"])));
  });

  it("loads with import { ... } from an ES module", async () => {
    const names = EXPORTS.join(", ");
    const out = await sh(process.execPath, ["--input-type=module", "-e", `import { ${names} } from "latchkey"; console.log(JSON.stringify(Object.entries({ ${names} }).map(([n, x]) => [n, typeof x])))`], app);
    expect(Object.fromEntries(JSON.parse(out))).toEqual(Object.fromEntries(EXPORTS.map((name) => [name, "function"])));
  });

  it("type-checks a strict TypeScript consumer under module node16 (CommonJS and ESM files) and under bundler resolution", async () => {
    const consumer = `import express from "express";
import { errorHandler, memoryStore, sessionMiddleware, verifySession, type Session } from "latchkey";

type IsAny<T> = 0 extends 1 & T ? true : false;

const app = express();
app.use(sessionMiddleware({ store: memoryStore() }));
app.post("/login", async (_req, res) => {
  const session: Session = await res.createSession("u");
  // @ts-expect-error createSession takes a string user id
  void res.createSession(42);
  res.json({ handle: session.handle });
});
app.get("/me", verifySession(), (req, res) => {
  const userId: string | undefined = req.session?.userId;
  const typed: IsAny<typeof userId> = false;
  res.json({ userId, typed });
});
app.use(errorHandler());
export { app };
`;
    mkdirSync(path.join(app, "src"), { recursive: true });
    writeFileSync(path.join(app, "src/app.ts"), consumer); // CommonJS under node16: package.json has no "type"
    writeFileSync(path.join(app, "src/app.mts"), consumer); // ESM under node16
    const base = { target: "ES2022", strict: true, skipLibCheck: false, noEmit: true, esModuleInterop: true, forceConsistentCasingInFileNames: true };
    const configs = {
      "tsconfig.node16.json": { compilerOptions: { ...base, module: "node16", moduleResolution: "node16" }, include: ["src"] },
      "tsconfig.bundler.json": { compilerOptions: { ...base, module: "esnext", moduleResolution: "bundler" }, include: ["src"] },
    };
    for (const [name, config] of Object.entries(configs)) writeFileSync(path.join(app, name), JSON.stringify(config, null, 2));
    // One at a time: the machine has two cores and the rest of the suite runs beside us.
    for (const name of Object.keys(configs)) await sh(tsc, ["-p", name], app);
  });

  it("runs its CLI with `npx latchkey --help`", async () => {
    // --no: never fetch a package called latchkey from the registry if the local bin is missing;
    // `--` so that npx passes --help on instead of printing its own.
    const out = await sh("npx", ["--no", "--", "latchkey", "--help"], app);
    expect(out).toMatch(/^Usage: latchkey <command> \[options\]/);
  });
});
