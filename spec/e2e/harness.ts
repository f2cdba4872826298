import { existsSync, readdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import path from "node:path";
import express from "express";
import { chromium, type Browser } from "playwright-core";
import { errorHandler, sessionMiddleware, verifySession, type SessionMiddlewareOptions } from "../../lib";

/**
 * A page that loads the published SuperTokens frontend SDK (supertokens-web-js's browser
 * bundles, served from node_modules) and an Express API using latchkey, on 127.0.0.1.
 */
const BUNDLE_DIR = path.dirname(require.resolve("supertokens-web-js/package.json")) + "/bundle";
const BUNDLES = ["website", "supertokens", "session"].map((name) => {
  const file = readdirSync(BUNDLE_DIR).find((entry) => entry.startsWith(`${name}.`) && entry.endsWith(".js"));
  if (!file) throw new Error(`supertokens-web-js bundle ${name}.*.js not found in ${BUNDLE_DIR}`);
  return file;
});

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the browser specs need Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}

export interface Running {
  url: string;
  server: Server;
}

export function listen(app: express.Express, host = "127.0.0.1"): Promise<Running> {
  return new Promise((resolve) => {
    const server = app.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://${host === "127.0.0.1" ? "127.0.0.1" : host}:${port}`, server });
    });
  });
}

export function close(running: Running | undefined): Promise<void> {
  return new Promise((resolve) => (running ? running.server.close(() => resolve()) : resolve()));
}

export interface ApiCounters {
  refreshes: number;
  theft: number;
  data: number;
}

/** The API: latchkey, a login route, a protected route, and CORS for a page on another origin. */
export function apiApp(options: SessionMiddlewareOptions, pageOrigin?: string): { app: express.Express; counters: ApiCounters } {
  const counters: ApiCounters = { refreshes: 0, theft: 0, data: 0 };
  const app = express();
  if (pageOrigin) {
    app.use((req, res, next) => {
      if (req.headers.origin !== pageOrigin) return next();
      res.setHeader("Access-Control-Allow-Origin", pageOrigin);
      res.setHeader("Access-Control-Allow-Credentials", "true");
      res.setHeader("Vary", "Origin");
      if (req.method !== "OPTIONS") return next();
      res.setHeader("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE");
      res.setHeader("Access-Control-Allow-Headers", "content-type, rid, fdi-version, anti-csrf, st-auth-mode, authorization");
      res.status(204).end();
    });
  }
  app.use((req, _res, next) => {
    if (req.path === "/auth/session/refresh") counters.refreshes++;
    next();
  });
  app.use(express.json());
  app.use(
    sessionMiddleware({
      logger: false,
      onTheftDetected: () => void counters.theft++,
      ...(pageOrigin ? { trustedOrigins: [pageOrigin] } : {}),
      ...options,
    }),
  );
  app.post("/login", async (req, res, next) => {
    try {
      await res.createSession(String(req.body.userId), { accessTokenPayload: { role: "admin" } });
      res.json({ message: "User logged in!" });
    } catch (error) {
      next(error);
    }
  });
  app.get("/api/data", verifySession(), (req, res) => {
    counters.data++;
    res.json({ userId: req.session!.userId });
  });
  app.use(errorHandler());
  return { app, counters };
}

/** The page: the SDK's bundles, initialised against `apiDomain` with the given transfer method. */
export function pageApp(): express.Express {
  const app = express();
  app.get("/sdk/:file", (req, res) => {
    if (!BUNDLES.includes(req.params.file as string)) return void res.status(404).end();
    res.sendFile(path.join(BUNDLE_DIR, req.params.file as string));
  });
  app.get("/", (req, res) => {
    const apiDomain = String(req.query.api);
    const method = req.query.mode === "header" ? "header" : "cookie";
    res.type("html").send(`<!doctype html><meta charset="utf-8"><title>latchkey e2e</title>
${BUNDLES.map((file) => `<script src="/sdk/${file}"></script>`).join("\n")}
<script>
  supertokens.init({
    appInfo: { appName: "latchkey-e2e", apiDomain: ${JSON.stringify(apiDomain)}, apiBasePath: "/auth" },
    recipeList: [supertokensSession.init({ tokenTransferMethod: ${JSON.stringify(method)} })],
  });
  window.api = ${JSON.stringify(apiDomain)};
  window.login = async (userId) => {
    const res = await fetch(api + "/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId }) });
    return res.status;
  };
  window.getData = async () => {
    const res = await fetch(api + "/api/data");
    return { status: res.status, body: await res.json() };
  };
  window.ready = true;
</script>`);
  });
  return app;
}

/** The file name of one of supertokens-web-js's browser bundles (`website`, `session`, `emailverification`, `userroles`, …). */
export function bundleFile(name: string): string {
  const file = readdirSync(BUNDLE_DIR).find((entry) => entry.startsWith(`${name}.`) && entry.endsWith(".js"));
  if (!file) throw new Error(`supertokens-web-js bundle ${name}.*.js not found in ${BUNDLE_DIR}`);
  return file;
}

export interface SdkPageOptions {
  /** Recipe bundles loaded after website, supertokens and session (e.g. `["emailverification", "userroles"]`). */
  bundles?: string[];
}

/**
 * A page like {@link pageApp}'s (same `?api=` and `?mode=` query), with more of web-js's
 * recipe bundles (EmailVerification is initialised when its bundle is loaded, as apps do),
 * every `onHandleEvent` event recorded in `window.events` (API_INVALID_CLAIM with its
 * `claimValidationErrors`), and `window.call(path, init)` → `{ status, body, headers }`
 * through the SDK-intercepted `fetch`.
 */
export function sdkPageApp(options: SdkPageOptions = {}): express.Express {
  const files = [...BUNDLES, ...(options.bundles ?? []).map(bundleFile)];
  const withEmailVerification = (options.bundles ?? []).includes("emailverification");
  const app = express();
  app.get("/sdk/:file", (req, res) => {
    if (!files.includes(req.params.file as string)) return void res.status(404).end();
    res.sendFile(path.join(BUNDLE_DIR, req.params.file as string));
  });
  app.get("/", (req, res) => {
    const apiDomain = String(req.query.api);
    const method = req.query.mode === "header" ? "header" : "cookie";
    res.type("html").send(`<!doctype html><meta charset="utf-8"><title>latchkey e2e</title>
${files.map((file) => `<script src="/sdk/${file}"></script>`).join("\n")}
<script>
  window.events = [];
  supertokens.init({
    appInfo: { appName: "latchkey-e2e", apiDomain: ${JSON.stringify(apiDomain)}, apiBasePath: "/auth" },
    recipeList: [
      supertokensSession.init({
        tokenTransferMethod: ${JSON.stringify(method)},
        onHandleEvent: (event) => {
          const recorded = { action: event.action };
          if (event.claimValidationErrors !== undefined) recorded.claimValidationErrors = event.claimValidationErrors;
          window.events.push(recorded);
        },
      }),
      ${withEmailVerification ? "supertokensEmailVerification.init()," : ""}
    ],
  });
  window.api = ${JSON.stringify(apiDomain)};
  window.login = async (userId) => {
    const res = await fetch(api + "/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId }) });
    return res.status;
  };
  window.call = async (path, init) => {
    const res = await fetch(api + path, init);
    const text = await res.text();
    let body = text;
    try { body = JSON.parse(text); } catch {}
    return { status: res.status, body };
  };
  window.getData = () => window.call("/api/data");
  window.ready = true;
</script>`);
  });
  return app;
}

/** The `{ uid, ate, up }` a `front-token` value (or the `sFrontToken` cookie) carries. */
export function decodeFrontToken(value: string): { uid: string; ate: number; up: Record<string, unknown> } {
  return JSON.parse(Buffer.from(decodeURIComponent(value), "base64").toString("utf8"));
}

/** A JWT's payload, unverified (for assertions on `exp`, `iat`). */
export function decodeJwtPayload(token: string): Record<string, unknown> & { exp: number; iat: number } {
  const part = token.split(".")[1];
  if (part === undefined) throw new Error(`not a JWT: ${token.slice(0, 40)}`);
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}
