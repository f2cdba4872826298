import express from "express";
import session from "express-session";
import { memoryStore, sessionMiddleware } from "latchkey";

const app = express();
app.use(session({ secret: "s", resave: false, saveUninitialized: false }));
app.use(sessionMiddleware({ store: memoryStore() }));
app.get("/", (req, res) => {
  res.json({ id: req.session.id });
});
