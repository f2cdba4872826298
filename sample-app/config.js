// @ts-check
// The sample app's settings, read from the environment once at start-up. A bad value
// stops the app with a message naming the variable, rather than starting half-configured.

/**
 * @typedef {object} Config
 * @property {number} port
 * @property {string} host the address to bind: 127.0.0.1 unless HOST says otherwise
 * @property {string | undefined} databaseUrl
 * @property {string | undefined} tablePrefix
 * @property {string} usersTable
 * @property {number} accessTokenTtlSeconds what latchkey is given, and what the dashboard shows
 * @property {number} freshSeconds how recent a login must be to change the password
 */

const UNIT_SECONDS = /** @type {Record<string, number>} */ ({ ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 });

/** @param {NodeJS.ProcessEnv} env @returns {Config} */
function readConfig(env) {
  const port = Number(env.PORT || 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be 0 to 65535 (got ${env.PORT}).`);
  return {
    port,
    // The app ships a well-known demo password: only this machine may reach it unless you say so.
    host: env.HOST?.trim() || "127.0.0.1",
    databaseUrl: env.LATCHKEY_DATABASE_URL || undefined,
    tablePrefix: env.LATCHKEY_TABLE_PREFIX || undefined,
    usersTable: env.SAMPLE_USERS_TABLE || "sample_users",
    accessTokenTtlSeconds: seconds("ACCESS_TOKEN_TTL", env.ACCESS_TOKEN_TTL || "15m"),
    freshSeconds: seconds("FRESH_SECONDS", env.FRESH_SECONDS || "300"),
  };
}

/**
 * "15m", "5s", "90" (seconds) → seconds. The app parses the duration itself, so the
 * lifetime the dashboard shows is the one latchkey was given.
 * @param {string} name @param {string} value
 */
function seconds(name, value) {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(value.trim());
  const result = match ? Number(match[1]) * (UNIT_SECONDS[match[2] ?? "s"] ?? NaN) : NaN;
  if (!(result > 0) || !Number.isFinite(result)) throw new Error(`${name} must be a duration such as 15m, 30s or 300 (seconds) (got ${JSON.stringify(value)}).`);
  return result;
}

/**
 * Where a browser on this machine reaches a server bound to `address`, and whether other
 * machines can too.
 * @param {import("node:net").AddressInfo} address
 */
function describeAddress(address) {
  const wildcard = address.address === "0.0.0.0" || address.address === "::";
  const host = wildcard ? "localhost" : address.family === "IPv6" ? `[${address.address}]` : address.address;
  const loopback = address.address === "::1" || address.address.startsWith("127.");
  return { url: `http://${host}:${address.port}`, local: loopback, wildcard };
}

module.exports = { readConfig, describeAddress };
