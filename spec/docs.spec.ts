import fs from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import express from "express";
import ts from "typescript";
import WebSocket from "ws";
import * as latchkey from "../lib";

// Keeps the code in README.md and docs/**/*.md working. Every ```ts / ```js block in them is
// type-checked under strict TypeScript against the library's sources (`latchkey` resolves to
// lib/index.ts, so no build is needed), the blocks marked `run` are also run on a free port on
// 127.0.0.1 with the in-memory store, the NestJS recipe must be spec/support/nest-recipe.ts (the
// file spec/nestjs.nest.spec.ts runs) and the LoopBack one spec/support/loopback-recipe.ts (run by
// spec/loopback.loopback.spec.ts), every link into this repository must point at a file and
// heading that exist, and the README's errors table must be the one in lib/errors.ts.
//
// A block is a whole file of a user's project by default: it imports what it uses. An HTML comment
// on the line before its fence says more, `;`-separated:
//
//   <!-- snippet: assumes app checkPassword -->   names the block uses without defining them; their
//                                                 types are in ASSUMED below (declared before the
//                                                 block, so its line numbers shift by that many)
//   <!-- snippet: file session.guard.ts -->       the block's file name, for blocks that import it
//   <!-- snippet: run -->                         also run it: it must start a server with app.listen
//                                                 and be listed in SCENARIOS, which says what to ask it
//   <!-- snippet: run on express4 -->             run it on Express 4 (the "express4" package)
//
// Blocks compile together, as files of one project, except those that augment a module or the global
// scope (`declare module`, `declare global`): each of those compiles in a project of its own, since an
// augmentation changes the types of every file beside it. Errors are reported at the document's line.

const ROOT = path.resolve(__dirname, "..");
const GITHUB = "https://github.com/latchkey-js/latchkey/";
const RAW = "https://raw.githubusercontent.com/latchkey-js/latchkey/main/";

/** The names a block may assume (`assumes ...`), typed, and their values when a block runs. */
const ASSUMED: Record<string, { type: string; value?: unknown }> = {
  app: { type: `import("express").Express` },
  sessions: { type: `import("latchkey").SessionMiddleware` },
  checkPassword: {
    type: `(credentials: unknown) => Promise<string>`,
    value: async (credentials: { username?: unknown }) => {
      if (typeof credentials?.username !== "string") throw new TypeError("no username");
      return credentials.username;
    },
  },
  users: { type: `{ isVerified(userId: string): Promise<boolean>; roles(userId: string): Promise<string[]> }` },
  admin: { type: `import("express").RequestHandler` },
  changePassword: { type: `import("express").RequestHandler` },
  existingPool: { type: `import("mysql2/promise").Pool` },
};

interface Snippet {
  doc: string; // relative to the repository
  line: number; // 1-based line of the opening fence
  lang: "ts" | "js";
  code: string;
  fileName?: string;
  assumes: string[];
  run: boolean;
  express4: boolean;
}

function markdownFiles(): string[] {
  const docs: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith(".md")) docs.push(rel);
    }
  };
  walk("docs");
  return ["README.md", ...docs.sort()];
}

function snippetsOf(doc: string): Snippet[] {
  const lines = fs.readFileSync(path.join(ROOT, doc), "utf8").split("\n");
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!;
    const close = lines.findIndex((line, j) => j > i && line.trim() === "```");
    if (close < 0) throw new Error(`${doc}:${i + 1}: a code fence that never closes`);
    const lang = { ts: "ts", typescript: "ts", js: "js", javascript: "js" }[open[2]!] as "ts" | "js" | undefined;
    if (lang) {
      let previous = i - 1;
      while (previous >= 0 && lines[previous]!.trim() === "") previous--;
      const marker = /^\s*<!-- snippet: (.*) -->\s*$/.exec(lines[previous] ?? "")?.[1];
      const snippet: Snippet = {
        doc,
        line: i + 1,
        lang,
        code: lines.slice(i + 1, close).map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line)).join("\n") + "\n",
        assumes: [],
        run: false,
        express4: false,
      };
      for (const directive of (marker ?? "").split(";").map((part) => part.trim()).filter(Boolean)) {
        const [word, ...rest] = directive.split(/\s+/);
        if (word === "assumes") snippet.assumes.push(...rest);
        else if (word === "file" && rest.length === 1) snippet.fileName = rest[0];
        else if (word === "run" && (rest.length === 0 || rest.join(" ") === "on express4")) {
          snippet.run = true;
          snippet.express4 = rest.length > 0;
        } else throw new Error(`${doc}:${previous + 1}: unknown snippet directive "${directive}" (see spec/docs.spec.ts)`);
      }
      for (const name of snippet.assumes) {
        if (!ASSUMED[name]) throw new Error(`${doc}:${previous + 1}: "${name}" is not in ASSUMED in spec/docs.spec.ts`);
      }
      snippets.push(snippet);
    }
    i = close;
  }
  return snippets;
}

const DOCS = markdownFiles();
const SNIPPETS = DOCS.flatMap(snippetsOf);
const label = (s: Snippet) => `${s.doc}:${s.line}`;

// ---- Compiling -------------------------------------------------------------------------------

/** Where a block lives in the virtual project: beside the repository's node_modules, never written. */
function virtualPath(s: Snippet): string {
  const name = s.fileName ?? `${s.doc.replace(/\W+/g, "_")}_${s.line}.${s.lang}`;
  return path.join(ROOT, "spec", "docs", ".snippets", name);
}

function prelude(s: Snippet): string[] {
  return s.assumes.map((name) =>
    s.lang === "ts"
      ? `declare const ${name}: ${ASSUMED[name]!.type};`
      : `/** @type {${ASSUMED[name]!.type}} */ var ${name} = /** @type {any} */ (undefined);`,
  );
}

function sourceOf(s: Snippet): string {
  // A block without import or export would be a script: its names global, its `await` refused.
  const isModule = /^\s*(import|export)\b/m.test(s.code) || (s.lang === "js" && /\brequire\(/.test(s.code));
  return [...prelude(s), s.code, isModule || s.lang === "js" ? "" : "export {};"].join("\n");
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2022.d.ts"],
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  strict: true,
  noUncheckedIndexedAccess: true,
  noImplicitOverride: true,
  esModuleInterop: true,
  skipLibCheck: true,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  allowJs: true,
  checkJs: true,
  noEmit: true,
  types: ["node"],
  baseUrl: ROOT,
  paths: { latchkey: ["lib/index.ts"], "latchkey/*": ["lib/frameworks/*/index.ts"] },
};

/** Compiles groups of blocks as projects; answers each block's errors at its document's lines. */
function compile(groups: Snippet[][]): Map<Snippet, string[]> {
  const parsed = new Map<string, ts.SourceFile | undefined>(); // lib and node_modules parse once for every group
  const errors = new Map<Snippet, string[]>();
  for (const group of groups) {
    const files = new Map(group.map((s) => [virtualPath(s), s]));
    const host = ts.createCompilerHost(COMPILER_OPTIONS);
    const { directoryExists, fileExists, readFile, getSourceFile } = host;
    const virtualDir = path.dirname(virtualPath(group[0]!));
    host.directoryExists = (dir) => dir === virtualDir || (directoryExists?.call(host, dir) ?? true);
    host.fileExists = (file) => files.has(file) || fileExists.call(host, file);
    host.readFile = (file) => (files.has(file) ? sourceOf(files.get(file)!) : readFile.call(host, file));
    host.getSourceFile = (file, languageVersion, onError) => {
      const snippet = files.get(file);
      if (snippet) return ts.createSourceFile(file, sourceOf(snippet), languageVersion, true);
      if (!parsed.has(file)) parsed.set(file, getSourceFile.call(host, file, languageVersion, onError));
      return parsed.get(file);
    };
    const program = ts.createProgram([...files.keys()], COMPILER_OPTIONS, host);
    for (const [file, snippet] of files) {
      const source = program.getSourceFile(file)!;
      const shift = prelude(snippet).length;
      errors.set(
        snippet,
        [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
          const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line;
          const where = line < shift ? `assumed names` : `${snippet.doc}:${snippet.line + 1 + line - shift}`;
          return `${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
        }),
      );
    }
    // Options and global diagnostics (a bad path mapping, say) would otherwise pass unseen.
    const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
    if (global.length > 0) throw new Error(global.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n"));
  }
  return errors;
}

const augments = (s: Snippet) => /^\s*declare\s+(module\s+["']|global\b)/m.test(s.code);

describe("the code in README.md and docs/", () => {
  let errors: Map<Snippet, string[]>;

  beforeAll(() => {
    errors = compile([SNIPPETS.filter((s) => !augments(s)), ...SNIPPETS.filter(augments).map((s) => [s])]);
  }, 120_000);

  it("has blocks to check in the README and in every recipe", () => {
    const docsWithCode = new Set(SNIPPETS.map((s) => s.doc));
    for (const doc of ["README.md", "docs/recipes/nestjs.md", "docs/recipes/loopback.md", "docs/recipes/express4.md", "docs/recipes/express-session.md", "docs/recipes/websockets.md"]) {
      expect(docsWithCode).toContain(doc);
    }
  });

  it.each(SNIPPETS.map((s) => [label(s), s] as const))("%s compiles under strict TypeScript", (_label, snippet) => {
    expect(errors.get(snippet)).toEqual([]);
  });

  it("shows the NestJS recipe that spec/nestjs.nest.spec.ts runs (spec/support/nest-recipe.ts)", () => {
    const withoutLeadingComments = (code: string) => code.replace(/^(\s*\/\/[^\n]*\n)+/, "").trim();
    const recipe = fs.readFileSync(path.join(ROOT, "spec/support/nest-recipe.ts"), "utf8").replaceAll(`from "../../lib";`, `from "latchkey";`);
    const shown = SNIPPETS.find((s) => s.doc === "docs/recipes/nestjs.md" && s.fileName === "session.guard.ts");
    expect(shown && withoutLeadingComments(shown.code)).toBe(withoutLeadingComments(recipe));
  });

  it("shows the LoopBack recipe that spec/loopback.loopback.spec.ts runs (spec/support/loopback-recipe.ts)", () => {
    const withoutLeadingComments = (code: string) => code.replace(/^(\s*\/\/[^\n]*\n)+/, "").trim();
    const recipe = fs.readFileSync(path.join(ROOT, "spec/support/loopback-recipe.ts"), "utf8").replaceAll(`from "../../lib";`, `from "latchkey";`);
    const shown = SNIPPETS.find((s) => s.doc === "docs/recipes/loopback.md" && s.fileName === "latchkey-loopback.ts");
    expect(shown && withoutLeadingComments(shown.code)).toBe(withoutLeadingComments(recipe));
  });
});

// ---- Running ---------------------------------------------------------------------------------

interface Running {
  url: string; // http://127.0.0.1:<port>
}

/** What each runnable block is asked once it listens, by document. */
const SCENARIOS: Record<string, (app: Running) => Promise<void>> = {
  "README.md": loginThenMe,
  "docs/recipes/express4.md": loginThenMe,
  "docs/recipes/websockets.md": async (app) => {
    const cookie = await login(app, "alice");
    const ws = new WebSocket(app.url.replace("http:", "ws:"), { origin: "https://app.example.com", headers: { cookie } });
    const greeting = await new Promise<string>((resolve, reject) => {
      ws.once("message", (data) => resolve(String(data)));
      ws.once("error", reject);
    });
    ws.close();
    expect(JSON.parse(greeting)).toEqual({ hello: "alice" });
    await expect(upgradeStatus(app, { origin: "https://app.example.com" })).resolves.toBe(401);
    await expect(upgradeStatus(app, { origin: "https://evil.example", headers: { cookie } })).resolves.toBe(403);
  },
};

async function login(app: Running, username: string): Promise<string> {
  const res = await fetch(`${app.url}/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username }) });
  expect(res.status).toBe(200);
  const cookies = res.headers.getSetCookie().map((cookie) => cookie.split(";")[0]!);
  expect(cookies.some((cookie) => cookie.startsWith("sAccessToken="))).toBe(true);
  return cookies.join("; ");
}

async function loginThenMe(app: Running): Promise<void> {
  const cookie = await login(app, "alice");
  const me = await fetch(`${app.url}/api/me`, { headers: { cookie } });
  expect(me.status).toBe(200);
  expect(await me.json()).toMatchObject({ userId: "alice" });
  const anonymous = await fetch(`${app.url}/api/me`);
  expect(anonymous.status).toBe(401);
  expect(await anonymous.json()).toEqual({ message: "unauthorised" });
}

function upgradeStatus(app: Running, options: WebSocket.ClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(app.url.replace("http:", "ws:"), options);
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("open", () => reject(new Error("the upgrade was accepted")));
    ws.once("error", (error) => reject(error));
  });
}

/**
 * Runs a block as CommonJS with `require` answering "express" (its app's listen moved to a free
 * port on 127.0.0.1) and "latchkey" (the sources, every middleware remembered to be closed).
 */
async function runSnippet(snippet: Snippet, scenario: (app: Running) => Promise<void>): Promise<void> {
  const realExpress = (snippet.express4 ? require("express4") : express) as typeof express;
  const servers: Server[] = [];
  const middlewares: latchkey.SessionMiddleware[] = [];
  const wrappedExpress = Object.assign((...args: Parameters<typeof express>) => {
    const app = realExpress(...args);
    app.listen = wrapListen(app, app.listen as (...args: unknown[]) => Server, servers) as typeof app.listen;
    return app;
  }, realExpress);
  const wrappedLatchkey = {
    ...latchkey,
    sessionMiddleware: (...args: Parameters<typeof latchkey.sessionMiddleware>) => {
      const middleware = latchkey.sessionMiddleware(...args);
      middlewares.push(middleware);
      return middleware;
    },
  };
  const modules: Record<string, unknown> = { express: wrappedExpress, latchkey: wrappedLatchkey, ws: WebSocket };
  const code =
    snippet.lang === "ts"
      ? ts.transpileModule(snippet.code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText
      : snippet.code;
  const module = { exports: {} };
  const names = snippet.assumes;
  const values = names.map((name) => {
    if (ASSUMED[name]!.value === undefined) throw new Error(`${label(snippet)} runs, so ASSUMED.${name} needs a value`);
    return ASSUMED[name]!.value;
  });
  const requireFor = (name: string) => (name in modules ? modules[name] : require(name));
  try {
    new Function("require", "module", "exports", ...names, code)(requireFor, module, module.exports, ...values);
    const server = await waitFor(() => servers[0]);
    await new Promise<void>((resolve) => (server.listening ? resolve() : server.once("listening", () => resolve())));
    await scenario({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  } finally {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    for (const middleware of middlewares) await middleware.close();
  }
}

function wrapListen(app: unknown, listen: (...args: unknown[]) => Server, servers: Server[]) {
  return (...args: unknown[]) => {
    const callback = args.find((arg) => typeof arg === "function");
    const server = listen.call(app, 0, "127.0.0.1", ...(callback ? [callback] : []));
    servers.push(server);
    return server;
  };
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("the block never called app.listen");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the runnable blocks, on the in-memory store", () => {
  const saved = { url: process.env.LATCHKEY_DATABASE_URL, prefix: process.env.LATCHKEY_TABLE_PREFIX };
  beforeAll(() => {
    delete process.env.LATCHKEY_DATABASE_URL;
    delete process.env.LATCHKEY_TABLE_PREFIX;
    jest.spyOn(console, "warn").mockImplementation(() => undefined); // "sessions live in memory"
  });
  afterAll(() => {
    if (saved.url !== undefined) process.env.LATCHKEY_DATABASE_URL = saved.url;
    if (saved.prefix !== undefined) process.env.LATCHKEY_TABLE_PREFIX = saved.prefix;
    jest.restoreAllMocks();
  });

  const runnable = SNIPPETS.filter((s) => s.run);

  it("include the README's quick start, the Express 4 recipe and the websocket recipe", () => {
    expect(runnable.map((s) => s.doc).sort()).toEqual(["README.md", "docs/recipes/express4.md", "docs/recipes/websockets.md"]);
  });

  it.each(runnable.map((s) => [label(s), s] as const))("%s runs: log in, then the protected route", async (_label, snippet) => {
    const scenario = SCENARIOS[snippet.doc];
    if (!scenario) throw new Error(`${label(snippet)} is marked run: add what to ask it to SCENARIOS in spec/docs.spec.ts`);
    await runSnippet(snippet, scenario);
  });
});

// ---- Links and tables ------------------------------------------------------------------------

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8").replace(/^\s*```[\s\S]*?^\s*```/gm, "");
  return new Set([...text.matchAll(/^#+\s+(.*)$/gm)].map((m) => slug(m[1]!)));
}

describe("links in README.md and docs/", () => {
  const links = DOCS.flatMap((doc) => {
    const text = fs.readFileSync(path.join(ROOT, doc), "utf8").replace(/^\s*```[\s\S]*?^\s*```/gm, "");
    return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => ({ doc, target: m[1]! }));
  });

  it.each(links.map((l) => [`${l.doc} → ${l.target}`, l] as const))("%s exists", (_label, { doc, target }) => {
    let file: string | undefined;
    let anchor: string | undefined;
    const [location, hash] = target.split("#") as [string, string | undefined];
    if (location.startsWith(GITHUB)) file = location.slice(GITHUB.length).replace(/^(blob|tree)\/main\//, "");
    else if (location.startsWith(RAW)) file = location.slice(RAW.length);
    else if (/^[a-z]+:/i.test(location)) return; // elsewhere on the web
    else file = location === "" ? doc : path.posix.normalize(path.posix.join(path.posix.dirname(doc), location));
    anchor = hash;
    expect(fs.existsSync(path.join(ROOT, file.replace(/\/$/, "")))).toBe(true);
    if (anchor !== undefined) expect([...anchorsOf(file)]).toContain(anchor);
  });
});

describe("the README's errors table", () => {
  it("is lib/errors.ts's table: code → status → message", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("\n## Errors\n"), readme.indexOf("\n## ", readme.indexOf("\n## Errors\n") + 1));
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3})[^|]*\| `(\{.*\})` \|$/gm)].map((m) => ({
      code: m[1],
      status: Number(m[2]),
      message: (JSON.parse(m[3]!.replace(/\[\{"id","reason"\}\]/, "[]")) as { message: string }).message,
    }));
    const table = Object.entries(latchkey.SESSION_ERRORS).map(([code, spec]) => ({ code, status: spec.status, message: spec.message }));
    expect(rows).toEqual(table);
  });
});
