import request from "supertest";
import { nextSessions } from "../../lib/frameworks/next";
import { setCookies } from "../helpers";
import { appOf, describeAdapter } from "./adapter-behaviour";
import { nextAppDriver, nextDriver } from "./drivers/next";

// The real Next.js server (next build when the app changed, then next({ dev: false }) in this process).
jest.setTimeout(120_000);

describeAdapter(nextDriver);
// App Router route handlers on latchkey/fetch, in the same Next.js app.
describeAdapter(nextAppDriver);

describe("next pages: the proxy headers", () => {
  const forwarded = { "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "User-Agent": "proxy-spec" };

  describe("by default", () => {
    const app = appOf(nextDriver);

    it("are not believed: the socket says http and 127.0.0.1", async () => {
      const res = await request(app().url).post("/login").set(forwarded).send({ userId: "direct" }).expect(200);
      expect([...setCookies(res).keys()]).toEqual(["sAccessToken", "sRefreshToken"]);
      expect((await app().sessions.listSessions("direct"))[0]!.ip).toMatch(/127\.0\.0\.1$/);
    });
  });

  describe("with trustProxy", () => {
    const app = appOf(nextDriver, { trustProxy: true } as object);

    it("give the scheme and the client", async () => {
      const res = await request(app().url).post("/login").set(forwarded).send({ userId: "proxied" }).expect(200);
      expect([...setCookies(res).keys()]).toEqual(["__Host-sAccessToken", "__Secure-sRefreshToken"]);
      expect((await app().sessions.listSessions("proxied"))[0]!.ip).toBe("203.0.113.7");
    });
  });
});

describe("next pages: apiHandler", () => {
  const app = appOf(nextDriver);

  it("answers 404 under apiBasePath for what is not an endpoint", async () => {
    await request(app().url).get("/api/auth/session/refresh").expect(404, { message: "not found" });
    await request(app().url).post("/api/auth/nothing").expect(404, { message: "not found" });
  });
});

describe("nextSessions", () => {
  it("catches misuse at once", async () => {
    expect(() => nextSessions((() => undefined) as never)).toThrow(/nextSessions is a factory/);
    expect(() => nextSessions({ trustProxy: "yes" as never })).toThrow(/trustProxy must be true or false/);
    const sessions = nextSessions({ logger: false });
    try {
      expect(() => sessions.withSession(undefined as never)).toThrow(/needs an API route handler/);
      expect(() => sessions.withSession(() => undefined, { checkDatabse: true } as never)).toThrow(/unknown withSession option checkDatabse/);
    } finally {
      await sessions.close();
    }
  });
});
