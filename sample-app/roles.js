// @ts-check
// The session claim that carries an account's roles. latchkey fetches it into the access
// token at log-in (it is listed in sessionMiddleware's `claims`), under the key the
// SuperTokens frontend SDK's UserRoleClaim reads, "st-role": the pages read it from the
// front token, the admin API checks it with Roles.validators.includes("admin").
const { PrimitiveArrayClaim } = require("latchkey");

/**
 * @param {import("./users").Users} users
 * @returns {PrimitiveArrayClaim<string>}
 */
function rolesClaim(users) {
  return new PrimitiveArrayClaim({
    key: "st-role",
    fetchValue: (userId) => users.roles(userId),
    // A role change calls invalidateClaim, which reaches every device within seconds; the
    // max age bounds how long a change made behind the app's back (in SQL, say) goes
    // unnoticed by the routes that check the role.
    defaultMaxAgeInSeconds: 300,
  });
}

module.exports = { rolesClaim };
