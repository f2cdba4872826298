import { memoryStore } from "../../lib";
import { fetchSessions } from "../../lib/frameworks/fetch";
import { decodeFrontToken } from "../helpers";
import { ROLES_CLAIM } from "./roles";

// What is the fetch API's own in latchkey/fetch, on Request objects made here (no server). The
// protocol over real HTTP is the framework conformance suite's (spec/frameworks.spec.ts), which
// runs the "fetch" driver (Hono) and the "next app" driver (Next.js route handlers).

describe("fetchSessions on Request objects", () => {
  const warnings: string[] = [];
  const sessions = fetchSessions({ store: memoryStore(), logger: { warn: (m) => void warnings.push(m), error() {} }, claims: [ROLES_CLAIM] });
  afterAll(() => sessions.close());

  const cookieOf = (headers: Headers, name: string) => headers.getSetCookie().find((line) => line.startsWith(`${name}=`))!.split(";")[0]!;

  it("creates a session as one Set-Cookie line per cookie, __Host-/__Secure- over https", async () => {
    const { session, headers } = await sessions.createSession(new Request("https://api.example/login", { method: "POST" }), "user-1", { ip: "203.0.113.9" });
    expect(headers.getSetCookie().map((line) => line.split("=")[0])).toEqual(["__Host-sAccessToken", "__Secure-sRefreshToken"]);
    expect(headers.getSetCookie().every((line) => line.includes("; Secure"))).toBe(true);
    expect(headers.get("front-token")).toEqual(expect.any(String));
    expect((await sessions.listSessions("user-1"))[0]).toMatchObject({ handle: session.handle, ip: "203.0.113.9" });
    const cookie = cookieOf(headers, "__Host-sAccessToken");
    await expect(sessions.getSession(new Request("https://api.example/me", { headers: { cookie } }))).resolves.toMatchObject({ userId: "user-1" });
    // Over plain http the prefixed names are not latchkey's cookies.
    await expect(sessions.getSession(new Request("http://api.example/me", { headers: { cookie } }))).rejects.toMatchObject({ code: "UNAUTHORISED" });
  });

  it("handle answers only its endpoints", async () => {
    await expect(sessions.handle(new Request("http://api.example/api/me"))).resolves.toBeUndefined();
    await expect(sessions.handle(new Request("http://api.example/auth/session/refresh"))).resolves.toBeUndefined(); // GET
    await expect(sessions.handle(new Request("http://api.example/auth/session/refresh", { method: "OPTIONS" }))).resolves.toBeUndefined();
    const refused = await sessions.handle(new Request("http://api.example/auth/session/refresh?x=1", { method: "POST" }));
    expect([refused!.status, await refused!.json()]).toEqual([401, { message: "unauthorised" }]);
  });

  it("errorResponse answers a SessionError with the carried tokens cleared, and nothing else", async () => {
    const { session, headers } = await sessions.createSession(new Request("http://api.example/login", { method: "POST" }), "user-3");
    await sessions.revokeSession(session.handle);
    const request = new Request("http://api.example/me", { headers: { cookie: cookieOf(headers, "sAccessToken") } });
    const error = await sessions.getSession(request, { checkDatabase: true }).catch((caught: unknown) => caught);
    const response = sessions.errorResponse(error, request)!;
    expect([response.status, await response.json()]).toEqual([401, { message: "unauthorised" }]);
    expect(response.headers.getSetCookie()).toHaveLength(2);
    expect(response.headers.get("front-token")).toBe("remove");
    expect(sessions.errorResponse(new Error("bug"), request)).toBeUndefined();
  });

  it("writes a re-signed token into the headers getSession was given, and warns once without them", async () => {
    const { headers: login } = await sessions.createSession(new Request("http://api.example/login", { method: "POST" }), "user-2");
    const cookie = cookieOf(login, "sAccessToken");
    const headers = new Headers();
    const session = await sessions.getSession(new Request("http://api.example/me", { headers: { cookie } }), { headers });
    await session.mergeIntoAccessTokenPayload({ plan: "pro" });
    expect(headers.getSetCookie()).toEqual([expect.stringMatching(/^sAccessToken=/)]);
    expect(decodeFrontToken(headers.get("front-token")!).up).toMatchObject({ plan: "pro" });

    const detached = await sessions.getSession(new Request("http://api.example/me", { headers: { cookie } }));
    await detached.mergeIntoAccessTokenPayload({ plan: "team" });
    await detached.mergeIntoAccessTokenPayload({ plan: "free" });
    expect(warnings.filter((warning) => warning.includes("getSession was given no headers"))).toHaveLength(1);
  });

  it("catches misuse at once", async () => {
    expect(() => fetchSessions(new Request("http://x/") as never)).toThrow(/fetchSessions is a factory/);
    await expect(sessions.getSession(new Request("http://x/"), { headers: {} as Headers })).rejects.toThrow(/must be a Headers/);
    await expect(sessions.getSession(new Request("http://x/"), { sessionRequierd: false } as never)).rejects.toThrow(/unknown getSession option sessionRequierd/);
  });
});
