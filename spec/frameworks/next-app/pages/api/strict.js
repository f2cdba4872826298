import { sessions } from "../../lib/sessions";

export default sessions.withSession((req, res) => res.json({ userId: req.session.userId }), { checkDatabase: true });
