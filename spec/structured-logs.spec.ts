import { sessionMiddleware, type LogRecord } from "../lib";
import { hashRefreshToken } from "../lib/tokens/refresh";
import { accessCookie, createApp, describeEachStore, fakeClock, login, refreshCookie, request, tokensOf } from "./helpers";

// Issue 22 item 8: logs were text with no level and no fields. A logger with only
// log(record) gets records { level, message, ...fields }; one with warn/error keeps getting text.
describeEachStore("structured logs", (stores) => {
  it("a record logger gets each line with its level and fields, and no record holds a token", async () => {
    const records: LogRecord[] = [];
    const clock = fakeClock();
    const { app } = createApp({ store: stores.create(), clock: clock.now, debug: true, logger: { log: (record) => void records.push(record) } });
    const first = await login(app, "user-1");
    const rotated = tokensOf(await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(first.refresh)).expect(200));
    await request(app).get("/api/me").set("Cookie", accessCookie(`${first.access}x`)).expect(401);
    await request(app).post("/api/me").set("Origin", "https://evil.example").set("Cookie", accessCookie(rotated.access)).expect(401);
    clock.advance(60_000);
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(first.refresh)).expect(401);

    expect(records.find((record) => record.message.startsWith("refused GET /api/me"))).toEqual({
      level: "debug",
      message: "refused GET /api/me (access token signature is not canonical base64url): 401 unauthorised",
      code: "UNAUTHORISED",
      reason: "access token signature is not canonical base64url",
      status: 401,
      method: "GET",
      path: "/api/me",
      clientIp: expect.any(String),
    });
    expect(records.find((record) => record.code === "CROSS_ORIGIN_REQUEST")).toEqual({
      level: "warn",
      message: expect.stringMatching(/^refused POST \/api\/me from origin "https:\/\/evil\.example"/),
      code: "CROSS_ORIGIN_REQUEST",
      reason: "cross-origin request",
      origin: "https://evil.example",
      host: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      method: "POST",
      path: "/api/me",
    });
    expect(records.find((record) => record.code === "TOKEN_THEFT_DETECTED")).toEqual(
      expect.objectContaining({ level: "warn", userId: "user-1", handle: first.handle, clientIp: expect.any(String) }),
    );
    for (const record of records) expect(["debug", "warn", "error"]).toContain(record.level);

    const secrets = [first.access, first.refresh, rotated.access, rotated.refresh, ...first.refresh.split(".").slice(1), hashRefreshToken(first.refresh).toString("hex")];
    const text = JSON.stringify(records);
    for (const secret of secrets) expect(text.includes(secret) ? `leaked: ${secret.slice(0, 12)}…` : "clean").toBe("clean");
  });
});

describe("structured logs of a store fault", () => {
  it("an error record names the operation and the driver's error code, with the error as err", async () => {
    const records: LogRecord[] = [];
    const { app, sessions } = createApp({ store: "mysql://root:S3cretPassw0rd@127.0.0.1:1/test", logger: { log: (record) => void records.push(record) } });
    await request(app).post("/login").send({ userId: "user-1" }).expect(503);
    expect(records).toEqual([
      {
        level: "error",
        message: "could not prepare the session store",
        operation: "init",
        errorCode: "ECONNREFUSED",
        err: expect.objectContaining({ code: "ECONNREFUSED" }),
      },
    ]);
    expect(JSON.stringify(records)).not.toContain("S3cretPassw0rd");
    await sessions.close();
  });
});

describe("text loggers are unchanged", () => {
  it("warn and error get the strings they always got, and no fields", async () => {
    const calls: unknown[][] = [];
    const logger = { warn: (...args: unknown[]) => void calls.push(["warn", ...args]), error: (...args: unknown[]) => void calls.push(["error", ...args]) };
    const { app } = createApp({ store: "mysql://root@127.0.0.1:1/test", logger });
    await request(app).post("/login").set("Origin", "https://evil.example").send({ userId: "user-1" }).expect(403);
    await request(app).post("/login").send({ userId: "user-1" }).expect(503);
    expect(calls).toEqual([
      ["warn", expect.stringMatching(/^refused POST \/login from origin "https:\/\/evil\.example"/)],
      ["error", "could not prepare the session store", expect.objectContaining({ code: "ECONNREFUSED" })],
    ]);
  });

  it("an object with log() beside warn() and error() (console, winston) keeps getting text", async () => {
    const calls: string[] = [];
    const logger = { log: () => void calls.push("log"), warn: () => void calls.push("warn"), error: () => void calls.push("error") };
    const { app } = createApp({ store: "mysql://root@127.0.0.1:1/test", logger });
    await request(app).post("/login").send({ userId: "user-1" }).expect(503);
    expect(calls).toEqual(["error"]);
  });

  it.each([[{ log: "yes" }], [{ warn: () => {} }], [{}]])("refuses a logger that is neither shape: %p", (logger) => {
    expect(() => sessionMiddleware({ logger: logger as never })).toThrow(
      new TypeError(
        "latchkey: option logger must have warn() and error() methods (text), or only a log(record) method (structured records), or be false " +
          "(got an object).",
      ),
    );
  });
});
