import { ROLES_CLAIM, sessions } from "../../lib/sessions";

export default sessions.withSession((req, res) => res.json({ userId: req.session.userId }), {
  overrideGlobalClaimValidators: (globals) => [...globals, ROLES_CLAIM.validators.includes("admin")],
});
