// Serves this app with the real Next.js server (`next({ dev: false })`, after `next build`) in the
// calling process, one http.Server per latchkey instance: lib/sessions.js finds the latchkey of the
// server that received the request through an AsyncLocalStorage. The app has no next.config.js on
// purpose: Next loads it with a dynamic import(), which jest's module sandbox refuses.
const { AsyncLocalStorage } = require("node:async_hooks");
const http = require("node:http");
const next = require("next");

const current = new AsyncLocalStorage();
Object.defineProperty(globalThis, "__latchkeyNextFixture", { configurable: true, get: () => current.getStore() });

let prepared;
function nextHandler() {
  prepared ??= (async () => {
    const app = next({ dev: false, dir: __dirname, quiet: true });
    await app.prepare();
    return app.getRequestHandler();
  })();
  return prepared;
}

/**
 * Starts a server on 127.0.0.1 (a free port) whose requests see `fixture` ({ sessions, SessionError,
 * ROLES_CLAIM }). `router`: "pages" serves the pages router's API routes (pages/api/…), "app" the App
 * Router's route handlers under /app-router (app/app-router/…), each at the conformance suite's paths.
 */
exports.serve = async function serve(fixture, router) {
  const handle = await nextHandler();
  const server = http.createServer((req, res) => {
    if (router === "app") {
      if (!req.url.startsWith("/app-router/")) req.url = `/app-router${req.url}`;
    } else if (req.url === "/login") {
      // The suite logs in at POST /login; the pages router serves API routes under /api only.
      req.url = "/api/login";
    }
    current.run(fixture, () => {
      handle(req, res).catch((error) => {
        res.statusCode = 500;
        res.end(String(error));
      });
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return server;
};
