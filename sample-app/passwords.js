// @ts-check
// Passwords are only ever kept as scrypt hashes with a per-user random salt, and compared
// in constant time. Nothing here logs or returns a password.
const crypto = require("node:crypto");

const SALT_BYTES = 16;
const KEY_BYTES = 64;
// N = 2^15 costs 32 MiB and a few tens of milliseconds per hash: slow for a guesser,
// fine for a login. Raise N (and maxmem) for production; OWASP suggests 2^17.
const COST = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

/** @typedef {{ salt: Buffer, hash: Buffer }} PasswordHash */

/** @param {string} password @param {Buffer} salt @returns {Promise<Buffer>} */
function scrypt(password, salt) {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password.normalize("NFKC"), salt, KEY_BYTES, COST, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** @param {string} password @returns {Promise<PasswordHash>} */
async function hashPassword(password) {
  const salt = crypto.randomBytes(SALT_BYTES);
  return { salt, hash: await scrypt(password, salt) };
}

/** @param {string} password @param {PasswordHash} stored @returns {Promise<boolean>} */
async function verifyPassword(password, stored) {
  const hash = await scrypt(password, stored.salt);
  return hash.length === stored.hash.length && crypto.timingSafeEqual(hash, stored.hash);
}

module.exports = { hashPassword, verifyPassword };
