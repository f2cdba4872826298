// The load generator: autocannon in this process, or wrk when it is installed
// (BENCH_LOADGEN=autocannon|wrk to choose). A contender run answers
// { rps, p50, p99, requests, non2xx, errors }: rps counts 2xx responses only, and the
// latencies (ms) are those of 2xx responses.
const { execFileSync, execFile } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const autocannon = require("autocannon");

function wrkInstalled() {
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return true;
  } catch (error) {
    // wrk --version exits 1 after printing its version; only a missing binary is ENOENT.
    return error.code !== "ENOENT";
  }
}

function pickLoadGenerator() {
  const asked = process.env.BENCH_LOADGEN;
  if (asked === "autocannon") return "autocannon";
  if (asked === "wrk") {
    if (!wrkInstalled()) throw new Error("BENCH_LOADGEN=wrk, but wrk is not on PATH");
    return "wrk";
  }
  if (asked) throw new Error(`BENCH_LOADGEN must be autocannon or wrk (got ${asked})`);
  return wrkInstalled() ? "wrk" : "autocannon";
}

/**
 * A request shape: { method, path, headers, body?, setupRequest?, onResponse? }.
 * `setupRequest(req)` returns the request to send (for per-request bodies or tokens);
 * `onResponse(status, headers)` sees each answer. `wrkBody: { format, modulo }` says
 * how wrk builds the same per-request body in Lua. A request that reads responses
 * always goes through autocannon.
 */
async function load(generator, url, request, { connections, durationSeconds }) {
  if (generator === "wrk" && canWrk(request)) return wrk(url, request, { connections, durationSeconds });
  return cannon(url, request, { connections, durationSeconds });
}

/** Which generator a request shape actually gets: one that reads responses needs autocannon. */
function generatorFor(generator, request) {
  return generator === "wrk" && canWrk(request) ? "wrk" : "autocannon";
}

function canWrk(request) {
  return !request.onResponse && (!request.setupRequest || request.wrkBody !== undefined);
}

async function cannon(url, request, { connections, durationSeconds }) {
  const spec = {
    method: request.method ?? "GET",
    path: request.path,
    headers: request.headers ?? {},
    ...(request.body !== undefined ? { body: request.body } : {}),
  };
  if (request.setupRequest) spec.setupRequest = (req) => request.setupRequest(req);
  if (request.onResponse) spec.onResponse = (status, _body, _context, headers) => request.onResponse(status, headers);
  const latencies = [];
  const instance = autocannon({ url, connections, duration: durationSeconds, requests: [spec] });
  // Our own latency record: autocannon's histogram rounds to whole milliseconds.
  instance.on("response", (_client, status, _bytes, responseTime) => {
    if (status >= 200 && status < 300) latencies.push(responseTime);
  });
  const result = await instance;
  return summariseRun({
    ok: result["2xx"],
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds: durationSeconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  });
}

// wrk: one thread (the other core is the server's), the same connection count. A POST
// with a per-request body (logins) is written as a small Lua script.
async function wrk(url, request, { connections, durationSeconds }) {
  const target = new URL(request.path, url).href;
  const args = ["-t1", `-c${connections}`, `-d${durationSeconds}s`, "--latency", "--timeout", "10s"];
  let script;
  if ((request.method ?? "GET") !== "GET" || request.wrkBody) {
    script = path.join(os.tmpdir(), `latchkey-bench-${process.pid}.lua`);
    fs.writeFileSync(script, luaScript(request));
    args.push("-s", script);
  } else {
    for (const [name, value] of Object.entries(request.headers ?? {})) args.push("-H", `${name}: ${value}`);
  }
  args.push(target);
  const output = await new Promise((resolve, reject) => {
    execFile("wrk", args, { timeout: (durationSeconds + 30) * 1000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`wrk failed: ${stderr || error.message}`)) : resolve(stdout),
    );
  });
  if (script) fs.rmSync(script, { force: true });
  return parseWrk(output, durationSeconds);
}

function luaScript(request) {
  const headers = Object.entries(request.headers ?? {})
    .map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
    .join("\n");
  const method = JSON.stringify(request.method ?? "GET");
  // wrkBody(n) as a Lua expression builder: string.format with a counter.
  const body = request.wrkBody
    ? `string.format(${JSON.stringify(request.wrkBody.format)}, counter % ${request.wrkBody.modulo})`
    : JSON.stringify(request.body ?? "");
  return `${headers}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(${method}, ${JSON.stringify(request.path)}, nil, ${body})
end
`;
}

function parseWrk(output, durationSeconds) {
  const number = (pattern) => {
    const match = pattern.exec(output);
    return match ? Number(match[1]) : 0;
  };
  const duration = (pattern) => {
    const match = pattern.exec(output);
    if (!match) return NaN;
    const value = Number(match[1]);
    return { us: value / 1000, ms: value, s: value * 1000, m: value * 60_000 }[match[2]];
  };
  const requests = number(/(\d+) requests in/);
  const non2xx = number(/Non-2xx or 3xx responses: (\d+)/);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = socket ? socket.slice(1).reduce((n, v) => n + Number(v), 0) : 0;
  const seconds = number(/requests in ([\d.]+)s/) || durationSeconds;
  return summariseRun({
    ok: requests - non2xx,
    requests,
    non2xx,
    errors,
    seconds,
    // wrk's latency distribution covers every response, not just 2xx.
    p50: duration(/50%\s+([\d.]+)(us|ms|s|m)\b/),
    p99: duration(/99%\s+([\d.]+)(us|ms|s|m)\b/),
  });
}

function summariseRun({ ok, requests, non2xx, errors, seconds, p50, p99 }) {
  return { rps: ok / seconds, p50, p99, requests, non2xx, errors };
}

function percentile(values, fraction) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/** Fires `total` requests as fast as `connections` allow (the memory step); answers the 2xx count. */
async function drive(url, request, { connections, total }) {
  const spec = { method: request.method, path: request.path, headers: request.headers ?? {}, body: request.body };
  if (request.setupRequest) spec.setupRequest = (req) => request.setupRequest(req);
  const result = await autocannon({ url, connections, amount: total, requests: [spec] });
  return { ok: result["2xx"], non2xx: result.non2xx, errors: result.errors + result.timeouts, seconds: result.duration };
}

module.exports = { pickLoadGenerator, generatorFor, load, drive };
