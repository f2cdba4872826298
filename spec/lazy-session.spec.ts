import express from "express";
import { Session } from "../lib";
import { accessCookie, createApp, describeEachStore, login, request } from "./helpers";

// verifySession's fast path builds req.session when the route first reads it (issue 23):
// what a route sees must be what an eagerly set property gave it.
describeEachStore("req.session built on first read", (stores) => {
  it("is one Session for the whole request, and what a route writes there is what it reads back", async () => {
    const { app } = createApp({ store: stores.create() });
    const { verifySession } = await import("../lib");
    app.get("/api/twice", verifySession(), (req, res) => {
      const first = req.session;
      const same = req.session === first;
      const isSession = first instanceof Session;
      (req as { session?: unknown }).session = undefined;
      res.json({ same, isSession, userId: first?.userId, afterWrite: req.session === undefined, own: Object.hasOwn(req, "session") });
    });
    const { access } = await login(app, "lazy-user");
    const res = await request(app).get("/api/twice").set("Cookie", accessCookie(access)).expect(200);
    expect(res.body).toEqual({ same: true, isSession: true, userId: "lazy-user", afterWrite: true, own: true });
  });

  it("stays readable after a mounted sub-app that verified it hands the request back", async () => {
    const { app } = createApp({ store: stores.create() });
    const { verifySession } = await import("../lib");
    const sub = express();
    sub.use(verifySession());
    app.use("/area", sub);
    app.get("/area/me", (req, res) => res.json({ isSession: req.session instanceof Session, userId: req.session?.userId }));
    const { access } = await login(app, "sub-user");
    const res = await request(app).get("/area/me").set("Cookie", accessCookie(access)).expect(200);
    expect(res.body).toEqual({ isSession: true, userId: "sub-user" });
  });

  it("is undefined on a request that verifySession did not see, on the same app", async () => {
    const { app } = createApp({ store: stores.create() });
    app.get("/open", (req, res) => res.json({ session: req.session === undefined ? "none" : "some" }));
    const { access } = await login(app, "open-user");
    await request(app).get("/api/me").set("Cookie", accessCookie(access)).expect(200);
    const res = await request(app).get("/open").set("Cookie", accessCookie(access)).expect(200);
    expect(res.body).toEqual({ session: "none" });
  });
});
