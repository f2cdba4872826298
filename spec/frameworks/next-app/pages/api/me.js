import { sessions } from "../../lib/sessions";

// GET and POST (the CSRF check runs on POST).
export default sessions.withSession((req, res) => {
  res.json(req.method === "GET" ? { userId: req.session.userId, handle: req.session.handle } : { userId: req.session.userId });
});
