import { readFileSync } from "node:fs";
import path from "node:path";
import { accessCookie, createApp, describeEachStore, login, refreshCookie, request } from "./helpers";

const REFRESH = "/auth/session/refresh";
const SIGNOUT = "/auth/signout";

describeEachStore("what responses reveal about the server", (stores) => {
  it("#71 adds no version or product header, and names no version in any body", async () => {
    const { version } = JSON.parse(readFileSync(path.resolve(__dirname, "../package.json"), "utf8")) as { version: string };
    const { app } = createApp({ store: stores.create() });
    const { access, refresh, res } = await login(app);
    const responses = [
      res,
      await request(app).post(REFRESH).set("Cookie", refreshCookie(refresh)),
      await request(app).get("/auth/jwt/jwks.json"),
      await request(app).get("/api/me"),
      await request(app).post(SIGNOUT).set("Cookie", accessCookie(access)),
    ];
    const known = new Set(["set-cookie", "front-token", "access-control-expose-headers", "cache-control", "content-type", "content-length", "etag", "date", "connection", "keep-alive", "x-powered-by"]);
    for (const response of responses) {
      expect(Object.keys(response.headers).filter((name) => !known.has(name))).toEqual([]);
      expect(response.headers["x-powered-by"] ?? "Express").toBe("Express"); // Express's own; apps turn it off
      expect(response.text).not.toContain(version);
      expect(response.text.toLowerCase()).not.toContain("latchkey");
    }
  });
});
