#!/usr/bin/env node
// Ships only the declarations a user can reach. tsc emits a .d.ts beside every compiled
// file, internals included (the session manager, the store's statements, the HTTP core);
// this keeps the ones reachable from the entry points named in package.json's "exports"
// (their "types") and deletes the rest, so no internal name is part of the published API.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const dist = path.join(root, "dist");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

function entries() {
  const found = new Set([path.join(root, pkg.types)]);
  for (const target of Object.values(pkg.exports ?? {})) {
    if (target && typeof target === "object" && typeof target.types === "string") found.add(path.join(root, target.types));
  }
  return [...found];
}

// `from "./x"`, `import "./x"` (a module augmentation loaded for its side effect),
// `import("./x")` and `/// <reference path>` in a declaration file.
const SPECIFIER = /(?:from\s+|import\s+|import\s*\(\s*|<reference\s+path=)["']([^"']+)["']/g;

function dependencies(file) {
  const text = fs.readFileSync(file, "utf8");
  const found = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const specifier = match[1];
    if (!specifier.startsWith(".")) continue;
    const base = path.resolve(path.dirname(file), specifier);
    for (const candidate of [base.endsWith(".d.ts") ? base : `${base}.d.ts`, path.join(base, "index.d.ts")]) {
      if (fs.existsSync(candidate)) {
        found.push(candidate);
        break;
      }
    }
  }
  return found;
}

function reachable() {
  const seen = new Set();
  const queue = entries();
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    if (!fs.existsSync(file)) throw new Error(`prune-declarations: ${path.relative(root, file)} is named as types but was not built`);
    seen.add(file);
    queue.push(...dependencies(file));
  }
  return seen;
}

function declarations(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return declarations(full);
    return entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

const keep = reachable();
let pruned = 0;
for (const file of declarations(dist)) {
  if (keep.has(file)) continue;
  fs.rmSync(file);
  pruned++;
}
console.log(`prune-declarations: kept ${keep.size} declaration files, removed ${pruned} internal ones`);
