import { PrimitiveArrayClaim } from "../../lib";

/**
 * The claim behind `GET /api/admin` in every framework driver: a user's roles are
 * `["admin"]` for user ids starting with "admin", else `["user"]`.
 */
export const ROLES_CLAIM = new PrimitiveArrayClaim<string>({
  key: "st-role",
  fetchValue: (userId) => (userId.startsWith("admin") ? ["admin"] : ["user"]),
});
