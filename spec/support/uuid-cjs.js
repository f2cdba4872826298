// @loopback/context requires uuid 14, which is ESM only. Node 20.19+ loads it with require(esm),
// but Jest's module system cannot before Node 24.9, so the "loopback" Jest project maps `uuid` here:
// the one function LoopBack calls (v4, for its context names), from node:crypto.
const { randomUUID } = require("node:crypto");

module.exports = { v4: () => randomUUID() };
