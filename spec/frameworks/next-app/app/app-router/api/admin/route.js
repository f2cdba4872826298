import { guarded } from "../../../../lib/fetch-sessions";
import { ROLES_CLAIM } from "../../../../lib/sessions";

export const GET = guarded((session, headers) => Response.json({ userId: session.userId }, { headers }), {
  overrideGlobalClaimValidators: (globals) => [...globals, ROLES_CLAIM.validators.includes("admin")],
});
