// @ts-check
// Serves the browser bundles of the SuperTokens frontend SDK (supertokens-web-js) from
// node_modules under stable names — /sdk/website.js, /sdk/supertokens.js, /sdk/session.js,
// /sdk/userroles.js (its UserRoleClaim reads the "st-role" claim) — since their file
// names carry a hash that changes with every SDK release.
const fs = require("node:fs");
const path = require("node:path");
const express = require("express");

const BUNDLE_DIR = path.join(path.dirname(require.resolve("supertokens-web-js/package.json")), "bundle");
const NAMES = ["website", "supertokens", "session", "userroles"];

/** @returns {express.Router} */
function sdkRouter() {
  const files = fs.readdirSync(BUNDLE_DIR);
  const router = express.Router();
  for (const name of NAMES) {
    const file = files.find((entry) => entry.startsWith(`${name}.`) && entry.endsWith(".js"));
    if (!file) throw new Error(`supertokens-web-js bundle ${name}.*.js not found in ${BUNDLE_DIR}; run npm ci.`);
    router.get(`/${name}.js`, (_req, res) => res.sendFile(path.join(BUNDLE_DIR, file)));
  }
  return router;
}

module.exports = { sdkRouter };
