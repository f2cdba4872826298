// Summarises a V8 .cpuprofile (node --cpu-prof, or BENCH_CPU_PROF=dir npm run bench) by
// self time: per function and per package, as a share of the busy time (idle excluded),
// so "where does a verified request go" has an answer without opening DevTools.
//
//   node bench/profile.js /tmp/prof/CPU.<...>.cpuprofile [--top 40] [--filter latchkey]
//
// Packages: "latchkey" (this package's dist/), a node_modules package by name,
// "node:<module>" for Node's own JavaScript, and V8's pseudo-frames ((garbage collector),
// (program): native code outside any JS function, e.g. inside OpenSSL).
const fs = require("node:fs");
const path = require("node:path");

function packageOf(url, functionName) {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules !== -1) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  if (/\/(dist|lib)\//.test(url)) return "latchkey";
  if (url.includes("/bench/")) return "bench";
  return url;
}

function summarise(profile) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  // samples[i] was taken timeDeltas[i + 1] µs before the next one: charge each sample that long.
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i + 1] ?? 0;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + delta);
  }
  const functions = new Map();
  const packages = new Map();
  let busy = 0;
  let idle = 0;
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === "(idle)") {
      idle += micros;
      continue;
    }
    busy += micros;
    const pkg = packageOf(url, functionName);
    const file = url ? `${path.basename(url)}:${lineNumber + 1}` : "";
    const key = `${pkg}  ${functionName || "(anonymous)"} ${file}`.trim();
    functions.set(key, (functions.get(key) ?? 0) + micros);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
  }
  return { busy, idle, functions, packages };
}

function main() {
  const args = process.argv.slice(2);
  const file = args.find((arg) => !arg.startsWith("--") && !/^\d+$/.test(arg));
  if (!file) {
    console.error("usage: node bench/profile.js <file.cpuprofile> [--top N] [--filter text]");
    process.exit(2);
  }
  const top = Number(args[args.indexOf("--top") + 1]) || 40;
  const filter = args.includes("--filter") ? args[args.indexOf("--filter") + 1] : undefined;
  const { busy, idle, functions, packages } = summarise(JSON.parse(fs.readFileSync(file, "utf8")));
  const pct = (micros) => `${((micros / busy) * 100).toFixed(1).padStart(5)} %`;
  const ms = (micros) => `${(micros / 1000).toFixed(0).padStart(7)} ms`;
  console.log(`${file}\nbusy ${ms(busy).trim()}, idle ${ms(idle).trim()} (shares below are of busy time)\n\nby package`);
  for (const [name, micros] of [...packages].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(micros)} ${ms(micros)}  ${name}`);
  console.log(`\nby function (self time, top ${top}${filter ? `, matching "${filter}"` : ""})`);
  const rows = [...functions].filter(([key]) => !filter || key.includes(filter)).sort((a, b) => b[1] - a[1]);
  for (const [key, micros] of rows.slice(0, top)) console.log(`  ${pct(micros)} ${ms(micros)}  ${key}`);
}

if (require.main === module) main();
module.exports = { summarise, packageOf };
