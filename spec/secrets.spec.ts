import { hashRefreshToken } from "../lib/tokens/refresh";
import { accessCookie, createApp, describeEachStore, fakeClock, login, refreshCookie, request, tokensOf } from "./helpers";
import type { Response } from "supertest";

/**
 * Runs the main flows and the failure paths with a capturing logger, then asserts that
 * no token, token hash, key or password appears in any log line or response body.
 */
describeEachStore("secrets never leak", (stores) => {
  it("keeps tokens, hashes, keys and passwords out of logs and response bodies", async () => {
    const lines: string[] = [];
    const logger = {
      warn: (message: string) => lines.push(message),
      error: (message: string, error?: unknown) => lines.push(`${message} ${error instanceof Error ? `${error.message} ${error.stack}` : ""}`),
    };
    const clock = fakeClock();
    const store = stores.create();
    const { app } = createApp({ store, logger, clock: clock.now });
    const bodies: string[] = [];
    const keep = (res: Response) => {
      bodies.push(res.text ?? "");
      return res;
    };

    const first = await login(app, "user-1", { data: { password: "hunter2-in-session-data" } });
    bodies.push(first.res.text);
    const rotated = tokensOf(keep(await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(first.refresh))));
    clock.advance(60_000);
    keep(await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(first.refresh))); // theft
    keep(await request(app).get("/api/me").set("Cookie", accessCookie(rotated.access)));
    keep(await request(app).get("/api/me").set("Cookie", accessCookie(`${first.access}x`)));
    keep(await request(app).post("/auth/signout").set("Cookie", accessCookie(rotated.access)));
    keep(await request(app).get("/auth/jwt/jwks.json"));

    // A store whose database is down, with a password in its URL.
    const down = createApp({ store: "mysql://root:S3cretPassw0rd@127.0.0.1:1/test", logger });
    keep(await request(down.app).post("/login").send({ userId: "u" }));

    const keys = await store.listSigningKeys();
    const secrets = [
      first.access,
      first.refresh,
      rotated.access,
      rotated.refresh,
      first.refresh.split(".")[1] as string, // the lineage
      first.refresh.split(".")[2] as string, // the secret
      hashRefreshToken(first.refresh).toString("hex"),
      hashRefreshToken(first.refresh).toString("base64"),
      ...keys.map((key) => key.privateKey.split("\n")[1] as string),
      "S3cretPassw0rd",
      "hunter2-in-session-data",
    ];
    expect(lines.length).toBeGreaterThan(0); // the theft warning and the store failures were logged
    for (const secret of secrets) {
      for (const text of [...lines, ...bodies]) expect(text.includes(secret) ? `leaked in: ${text.slice(0, 80)}` : "clean").toBe("clean");
    }
  });
});
