const fs = require("node:fs");

module.exports = async function globalTeardown() {
  const throwaway = globalThis.__LATCHKEY_THROWAWAY__;
  if (!throwaway) return;
  try {
    process.kill(throwaway.pid, "SIGTERM");
  } catch {}
  await new Promise((resolve) => setTimeout(resolve, 1000));
  fs.rmSync(throwaway.dir, { recursive: true, force: true });
};
