import { sessions } from "../../lib/sessions";

export default sessions.withSession(async (req, res) => {
  await req.session.mergeIntoAccessTokenPayload(req.body);
  res.json({});
});
