import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

// Each framework adapter as its users meet it (issue 20 item 7): the packed tarball installed
// into a fresh app beside that framework alone, its subpath loaded from CommonJS and an ES
// module without loading any other framework, its docs page's code compiled as a strict
// TypeScript consumer (skipLibCheck off), and its subpath's types resolved under node10,
// node16 and bundler resolution.

const root = path.resolve(__dirname, "..");
const rootPackage = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> };
const tsc = path.join(root, "node_modules/.bin/tsc");
const dev = (name: string) => `${name}@${rootPackage.devDependencies[name]}`;

jest.setTimeout(240_000);

/** Each subpath: its factory, and the packages its users install beside latchkey. */
const FRAMEWORKS: Record<string, { factory: string; install: string[]; lib?: string[]; skipLibCheck?: boolean }> = {
  fastify: { factory: "fastifySessions", install: [dev("fastify")] },
  koa: { factory: "koaSessions", install: [dev("koa"), dev("@types/koa")] },
  // Hapi's own declarations import joi's, which a Hapi app installs beside it.
  hapi: { factory: "hapiSessions", install: [dev("@hapi/hapi"), "joi@^17"] },
  lambda: { factory: "lambdaSessions", install: [dev("@types/aws-lambda")] },
  // Its docs page serves the handlers with Hono.
  fetch: { factory: "fetchSessions", install: [dev("hono"), dev("@hono/node-server")] },
  // Next's declarations need React's, as in every Next app.
  // Next's own declarations need a newer DOM library than TypeScript 5.9 ships (URLPattern):
  // create-next-app sets skipLibCheck, so its docs code is compiled that way; the subpath's
  // declarations are still checked in full by the resolution probes below.
  next: { factory: "nextSessions", install: [dev("next"), dev("react"), dev("react-dom"), "@types/react@^19", "@types/react-dom@^19"], lib: ["dom", "dom.iterable", "esnext"], skipLibCheck: true },
};
const FRAMEWORK_MODULES = /node_modules[\\/](express|fastify|koa|@hapi[\\/]hapi|next|hono)[\\/]/;

const run = promisify(execFile);
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm_|init_cwd$)/i.test(key)));
const env = { ...cleanEnv, LATCHKEY_DATABASE_URL: "", NO_UPDATE_NOTIFIER: "1", NEXT_TELEMETRY_DISABLED: "1" };

async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    return (await run(command, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${path.basename(command)} ${args.join(" ")} failed in ${cwd}:\n${stdout ?? ""}\n${stderr ?? ""}`);
  }
}

/**
 * The docs page's TypeScript: its first block, and every block named as a file (a Next.js app
 * is several files). `checkPassword` is the one name those blocks leave to the reader.
 */
function docsBlocks(name: string): { file: string; code: string }[] {
  const text = readFileSync(path.join(root, "docs/frameworks", `${name}.md`), "utf8");
  const blocks: { file: string; code: string }[] = [];
  const fence = /(?:<!-- snippet: ([^>]*?) -->\n)?```ts\n([\s\S]*?)```/g;
  for (const match of text.matchAll(fence)) {
    const directives = match[1] ?? "";
    const named = /(?:^|;\s*)file ([\w.-]+\.ts)/.exec(directives)?.[1];
    const assumes = /(?:^|;\s*)assumes ([\w ]+)/.exec(directives)?.[1]?.trim().split(/\s+/) ?? [];
    if (assumes.some((assumed) => assumed !== "checkPassword")) continue;
    if (!named && blocks.length > 0) continue;
    const declared = assumes.includes("checkPassword") ? "declare function checkPassword(credentials: unknown): Promise<string>;\n" : "";
    blocks.push({ file: named ?? "app.ts", code: declared + match[2] });
  }
  return blocks;
}

let temp: string;
let tarball: string;

beforeAll(async () => {
  if (!existsSync(path.join(root, "dist/index.js"))) throw new Error("dist/ is missing: run `npm run build` first (npm test does).");
  temp = mkdtempSync(path.join(os.tmpdir(), "latchkey-frameworks-pack-"));
  const [packed] = JSON.parse(await sh("npm", ["pack", "--json", "--pack-destination", temp], root)) as { filename: string }[];
  tarball = path.join(temp, path.basename(packed!.filename));
  // One fresh app per framework, installed side by side: npm waits on its cache, not the CPU.
  await Promise.all(
    Object.entries(FRAMEWORKS).map(async ([name, { install }]) => {
      const app = path.join(temp, name);
      mkdirSync(app);
      writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: `fresh-${name}-app`, version: "1.0.0", private: true }, null, 2));
      await sh("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", tarball, dev("@types/node"), ...install], app);
    }),
  );
});

afterAll(() => {
  if (temp) rmSync(temp, { recursive: true, force: true });
});

describe.each(Object.keys(FRAMEWORKS))("latchkey/%s, installed from the tarball beside its framework alone", (name) => {
  const { factory, lib, skipLibCheck = false } = FRAMEWORKS[name]!;
  let app: string;

  beforeAll(() => {
    app = path.join(temp, name);
  });

  it("installs no other framework (every framework is an optional peer)", () => {
    const present = ["express", "fastify", "koa", "@hapi/hapi", "next"].filter((other) => existsSync(path.join(app, "node_modules", other)));
    const expected = { fastify: ["fastify"], koa: ["koa"], hapi: ["@hapi/hapi"], lambda: [], fetch: [], next: ["next"] }[name];
    expect(present).toEqual(expected);
  });

  it("loads from CommonJS and an ES module, and loading it loads no framework", async () => {
    const probe = `
      const loaded = () => Object.keys(require.cache).filter((file) => ${FRAMEWORK_MODULES}.test(file));
      const cjs = require("latchkey/${name}");
      import("latchkey/${name}").then((esm) => {
        console.log(JSON.stringify({ cjs: typeof cjs.${factory}, esm: typeof esm.${factory}, loaded: loaded() }));
      });`;
    const out = JSON.parse(await sh(process.execPath, ["-e", probe], app)) as { cjs: string; esm: string; loaded: string[] };
    expect(out).toEqual({ cjs: "function", esm: "function", loaded: [] });
  });

  async function compile(project: string, files: { file: string; code: string }[], resolution: string, docs = false): Promise<string> {
    mkdirSync(project);
    for (const { file, code } of files) writeFileSync(path.join(project, file), code);
    const module = resolution === "bundler" ? "esnext" : resolution === "node16" ? "node16" : "commonjs";
    // A Next app compiles with the DOM and the newest ES library, as create-next-app sets it up.
    const compilerOptions = { strict: true, noEmit: true, skipLibCheck: docs && skipLibCheck, target: "ES2022", lib, module, moduleResolution: resolution, esModuleInterop: true, types: ["node"] };
    writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["*.ts"] }, null, 2));
    try {
      await run(tsc, ["-p", project], { cwd: app, env, encoding: "utf8" });
      return "";
    } catch (error) {
      return (error as { stdout?: string }).stdout ?? String(error);
    }
  }

  it("compiles its docs page's code as a strict TypeScript consumer", async () => {
    const blocks = docsBlocks(name);
    expect(blocks.length).toBeGreaterThan(0);
    expect(await compile(path.join(app, "ts-docs"), blocks, "bundler", true)).toBe("");
  });

  it.each(["node10", "node16", "bundler"])("resolves the subpath's types under %s resolution", async (resolution) => {
    // What every user of the subpath writes first: the factory, typed, and its management API.
    const probe = `import { ${factory} } from "latchkey/${name}";\nconst sessions = ${factory}();\nexport const ready: Promise<void> = sessions.ready();\n`;
    expect(await compile(path.join(app, `ts-${resolution}`), [{ file: "probe.ts", code: probe }], resolution)).toBe("");
  });
});
