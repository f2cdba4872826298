import request from "supertest";
import { memoryStore, type SessionMiddlewareOptions } from "../../lib";
import { nextSessions, type NextSessionsOptions } from "../../lib/frameworks/next";
import { setCookies } from "../helpers";
import type { FrameworkApp } from "./driver";
import { nextDriver } from "./drivers/next";

// What is Next's own in latchkey/next, on the real Next.js server (next build when the app changed,
// then next({ dev: false }) in this process). The protocol itself is the framework conformance
// suite's (spec/frameworks.spec.ts), which runs the "next pages" and "next app" drivers.
jest.setTimeout(120_000);

/** The pages-router app with these options, for the `describe` it is called in. */
function appOf(options: NextSessionsOptions = {}): () => FrameworkApp {
  let app: FrameworkApp | undefined;
  beforeAll(async () => {
    app = await nextDriver.start({ logger: false, store: memoryStore(), ...options } as SessionMiddlewareOptions);
  });
  afterAll(async () => {
    await app?.close();
  });
  return () => app!;
}

describe("next pages: the proxy headers", () => {
  const forwarded = { "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "User-Agent": "proxy-spec" };

  describe("by default", () => {
    const app = appOf();

    it("are not believed: the socket says http and 127.0.0.1", async () => {
      const res = await request(app().url).post("/login").set(forwarded).send({ userId: "direct" }).expect(200);
      expect([...setCookies(res).keys()]).toEqual(["sAccessToken", "sRefreshToken"]);
      expect((await app().sessions.listSessions("direct"))[0]!.ip).toMatch(/127\.0\.0\.1$/);
    });
  });

  describe("with trustProxy", () => {
    const app = appOf({ trustProxy: true });

    it("give the scheme and the client", async () => {
      const res = await request(app().url).post("/login").set(forwarded).send({ userId: "proxied" }).expect(200);
      expect([...setCookies(res).keys()]).toEqual(["__Host-sAccessToken", "__Secure-sRefreshToken"]);
      expect((await app().sessions.listSessions("proxied"))[0]!.ip).toBe("203.0.113.7");
    });
  });
});

describe("next pages: apiHandler and withSession", () => {
  const app = appOf();

  it("answers 204 to a preflight, without verifying or calling the route", async () => {
    await request(app().url).options("/api/me").set("Origin", "http://frontend.example").expect(204);
    await request(app().url).options("/api/auth/session/refresh").expect(204);
  });

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
