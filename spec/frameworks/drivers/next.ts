import { execFile } from "node:child_process";
import fs from "node:fs";
import type http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { SessionError } from "../../../lib";
import { fetchSessions, type FetchSessions } from "../../../lib/frameworks/fetch";
import { nextSessions, type NextSessions } from "../../../lib/frameworks/next";
import type { FrameworkApp, FrameworkDriver } from "../driver";
import { ROLES_CLAIM } from "../roles";

/**
 * The Next.js app of the framework conformance suite: spec/frameworks/next-app/, its pages-router
 * routes written as docs/frameworks/next.md shows (its App Router half: {@link nextAppDriver}), built once
 * with `next build` (again only when its files change) and served by the real Next server,
 * in this process: `next({ dev: false })` behind one `http.Server` per `start(options)`.
 * In-process because `options` may hold what no file or environment variable can carry to
 * another process (claims, hooks, a store object): each server hands its own `nextSessions(options)`
 * to the app's lib/sessions.js through an AsyncLocalStorage around Next's request handler
 * (serve.js), so apps started side by side never see each other's sessions. `next build`
 * takes about 15 s on a 2-core machine; a cached build starts in about a second.
 */
export const nextDriver: FrameworkDriver = {
  name: "next pages",
  apiBasePath: "/api/auth",
  start: (options) => startNext("pages", nextSessions(options)),
};

/**
 * The same Next.js app's App Router half (app/app-router/…): route handlers on latchkey/fetch, as
 * docs/frameworks/fetch.md shows for Next.js. Its routes live under /app-router, where the pages
 * router's do not reach; the server puts the suite's paths there.
 */
export const nextAppDriver: FrameworkDriver = {
  name: "next app",
  apiBasePath: "/app-router/auth",
  start: (options) => startNext("app", fetchSessions({ ...options, apiBasePath: "/app-router/auth" })),
};

async function startNext(router: "pages" | "app", sessions: NextSessions | FetchSessions): Promise<FrameworkApp> {
  try {
    await buildIfStale();
    const server = await nextApp().serve({ sessions, SessionError, ROLES_CLAIM }, router);
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      sessions,
      async close() {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await sessions.close();
      },
    };
  } catch (error) {
    await sessions.close();
    throw error;
  }
}

const NEXT_APP = path.resolve(__dirname, "../next-app");
const NEXT_BIN = require.resolve("next/dist/bin/next");

/**
 * The app's serve.js (plain JavaScript, beside the app it serves), which loads Next untyped:
 * Next's types declare globals (a read-only process.env.NODE_ENV among them) that would change
 * the types of every spec compiled beside this one.
 */
function nextApp(): {
  serve(fixture: { sessions: NextSessions | FetchSessions; SessionError: typeof SessionError; ROLES_CLAIM: typeof ROLES_CLAIM }, router: "pages" | "app"): Promise<http.Server>;
} {
  return require(path.join(NEXT_APP, "serve.js"));
}

/**
 * Runs `next build` when the app has no build or a file of it is newer than the build. Several
 * jest workers may get here at once: a lock directory lets one build while the others wait.
 */
async function buildIfStale(): Promise<void> {
  const lock = path.join(NEXT_APP, ".next-build.lock");
  for (;;) {
    if (!stale()) return;
    try {
      fs.mkdirSync(lock);
    } catch {
      // Another worker builds; a lock older than 3 minutes is a crashed build's.
      if (Date.now() - fs.statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 180_000) fs.rmSync(lock, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    try {
      if (stale()) {
        await promisify(execFile)(process.execPath, [NEXT_BIN, "build"], {
          cwd: NEXT_APP,
          env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
          maxBuffer: 16 * 1024 * 1024,
        });
      }
      return;
    } finally {
      fs.rmSync(lock, { recursive: true, force: true });
    }
  }
}

function stale(): boolean {
  const built = fs.statSync(path.join(NEXT_APP, ".next/BUILD_ID"), { throwIfNoEntry: false });
  if (!built) return true;
  return newest(NEXT_APP) > built.mtimeMs;
}

// The newest modification time among the app's own files (not its build output).
function newest(dir: string): number {
  let latest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === ".next" || entry.name === "node_modules" || entry.name.startsWith(".next-build")) continue;
    const file = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(file) : fs.statSync(file).mtimeMs);
  }
  return latest;
}
