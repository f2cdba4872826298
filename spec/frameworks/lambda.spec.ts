import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, APIGatewayProxyResult, APIGatewayProxyStructuredResultV2, Context } from "aws-lambda";
import { memoryStore, SessionError, type SessionMiddlewareOptions, type SessionStore } from "../../lib";
import { lambdaSessions, type EventWithCreateSession, type LambdaSessions } from "../../lib/frameworks/lambda";
import { fakeClock } from "../helpers";

// What is Lambda's own in latchkey/lambda, beside the framework conformance suite (which runs
// both payload versions through every wire behaviour over HTTP): the result shapes API Gateway
// reads (where a cookie can be lost), the handler's own headers kept, nesting, secure by
// default, and revocations reaching a warm function whose timers never run.

const context = {} as Context;
const running: LambdaSessions[] = [];
afterEach(async () => {
  for (const sessions of running.splice(0)) await sessions.close();
  jest.restoreAllMocks();
});

function start(options: SessionMiddlewareOptions = {}): LambdaSessions {
  const sessions = lambdaSessions({ logger: false, store: memoryStore(), ...options });
  running.push(sessions);
  return sessions;
}

function v1(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): APIGatewayProxyEvent {
  const all = { Host: "api.example.com", "X-Forwarded-Proto": "http", ...headers };
  return {
    httpMethod: method,
    path,
    headers: all,
    multiValueHeaders: Object.fromEntries(Object.entries(all).map(([name, value]) => [name, [value]])),
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { path: `/prod${path}`, stage: "prod", identity: { sourceIp: "203.0.113.7", userAgent: "agent/1.0" } },
  } as unknown as APIGatewayProxyEvent;
}

function v2(method: string, path: string, headers: Record<string, string> = {}, cookies?: string[]): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    rawPath: path,
    headers: { host: "api.example.com", "x-forwarded-proto": "http", ...headers },
    cookies,
    isBase64Encoded: false,
    requestContext: { http: { method, path, sourceIp: "198.51.100.9", userAgent: "agent/2.0" } },
  } as unknown as APIGatewayProxyEventV2;
}

/** The `name=value` pairs of Set-Cookie lines. */
function pairs(lines: unknown[] | undefined): string[] {
  return (lines ?? []).map((line) => String(line).split(";")[0]!);
}

describe("latchkey/lambda results", () => {
  it("v1: every Set-Cookie (latchkey's and the handler's own) is a line of multiValueHeaders, never two in headers", async () => {
    const login = start().middleware(async (event) => {
      await event.createSession("user-1");
      return { statusCode: 201, headers: { "Set-Cookie": "theme=dark; Path=/", "X-Own": "kept" }, multiValueHeaders: { "set-cookie": ["lang=en; Path=/"] }, body: "{}" };
    });
    const result = (await login(v1("POST", "/login"), context)) as APIGatewayProxyResult;
    expect(result.statusCode).toBe(201);
    expect(Object.keys(result.headers ?? {}).filter((name) => name.toLowerCase() === "set-cookie")).toEqual([]);
    expect(Object.keys(result.multiValueHeaders ?? {}).filter((name) => name.toLowerCase() === "set-cookie")).toEqual(["Set-Cookie"]);
    expect(pairs(result.multiValueHeaders!["Set-Cookie"]).map((pair) => pair.split("=")[0])).toEqual(["lang", "theme", "sAccessToken", "sRefreshToken"]);
    expect(result.headers).toMatchObject({ "X-Own": "kept", "front-token": expect.any(String), "Cache-Control": "no-store" });
  });

  it("v2: cookies go in cookies[], the handler's own kept, and never into a set-cookie header", async () => {
    const login = start().middleware(async (event) => {
      await event.createSession("user-1");
      return { statusCode: 200, headers: { "set-cookie": "theme=dark; Path=/" }, cookies: ["lang=en; Path=/"], body: "{}" };
    });
    const result = (await login(v2("POST", "/login"), context)) as APIGatewayProxyStructuredResultV2;
    expect(Object.keys(result.headers ?? {}).filter((name) => name.toLowerCase() === "set-cookie")).toEqual([]);
    expect(pairs(result.cookies).map((pair) => pair.split("=")[0])).toEqual(["lang", "theme", "sAccessToken", "sRefreshToken"]);
    expect(result.cookies!.every((line) => !line.includes(", s"))).toBe(true);
  });

  it.each([
    ["v1", "a string", v1("POST", "/login"), "hello", { statusCode: 200, body: "hello" }],
    ["v2", "a string", v2("POST", "/login"), "hello", { statusCode: 200, body: "hello" }],
    ["v2", "an object without statusCode", v2("POST", "/login"), { hello: "world" }, { statusCode: 200, body: '{"hello":"world"}' }],
  ])("%s: %s returned by the handler is the body, with latchkey's cookies", async (_shape, _what, event, returned, expected) => {
    const login = start().middleware(async (e: APIGatewayProxyEvent | APIGatewayProxyEventV2) => {
      await (e as typeof e & { createSession(userId: string): Promise<unknown> }).createSession("user-1");
      return returned as never;
    });
    const result = (await login(event, context)) as APIGatewayProxyResult & APIGatewayProxyStructuredResultV2;
    expect(result).toMatchObject(expected);
    expect(pairs(result.cookies ?? result.multiValueHeaders?.["Set-Cookie"]).length).toBe(2);
  });

  it("API Gateway is HTTPS: without X-Forwarded-Proto: http the cookies are Secure and __Host-/__Secure- prefixed", async () => {
    const login = start().middleware(async (event) => {
      await event.createSession("user-1");
      return { statusCode: 200, body: "{}" };
    });
    const event = v2("POST", "/login");
    delete event.headers["x-forwarded-proto"];
    const result = (await login(event, context)) as APIGatewayProxyStructuredResultV2;
    expect(pairs(result.cookies).map((pair) => pair.split("=")[0])).toEqual(["__Host-sAccessToken", "__Secure-sRefreshToken"]);
    expect(result.cookies!.every((line) => line.includes("; Secure"))).toBe(true);
  });

  it("records API Gateway's sourceIp and userAgent (v1 identity, v2 http) on the session", async () => {
    const sessions = start();
    const login = sessions.middleware(async (event) => ({ statusCode: 200, body: (await event.createSession("user-1")).handle }));
    await login(v1("POST", "/login"), context);
    await login(v2("POST", "/login"), context);
    const listed = (await sessions.listSessions("user-1")).map((session) => [session.ip, session.userAgent]);
    expect(listed.sort()).toEqual([["198.51.100.9", "agent/2.0"], ["203.0.113.7", "agent/1.0"]]);
  });
});

describe("latchkey/lambda wrappers", () => {
  it("nest: verifySession inside a middleware-wrapped router puts each cookie on the result once, and its refusal passes out", async () => {
    const sessions = start();
    const me = sessions.verifySession(async (event) => {
      await event.session.mergeIntoAccessTokenPayload({ seen: true });
      return { statusCode: 200, body: event.session.userId };
    });
    const router = sessions.middleware(async (event: EventWithCreateSession<APIGatewayProxyEventV2>) => {
      if (event.rawPath === "/login") {
        await event.createSession("user-1");
        return { statusCode: 200, body: "{}" };
      }
      return me(event, context);
    });
    const login = (await router(v2("POST", "/login"), context)) as APIGatewayProxyStructuredResultV2;
    const guarded = (await router(v2("GET", "/api/me", {}, pairs(login.cookies)), context)) as APIGatewayProxyStructuredResultV2;
    expect([guarded.statusCode, guarded.body]).toEqual([200, "user-1"]);
    expect(pairs(guarded.cookies).map((pair) => pair.split("=")[0])).toEqual(["sAccessToken"]);
    const refused = (await router(v2("GET", "/api/me"), context)) as APIGatewayProxyStructuredResultV2;
    expect([refused.statusCode, JSON.parse(refused.body!)]).toEqual([401, { message: "unauthorised" }]);
  });

  it("middleware() alone answers the endpoints and 404s anything else", async () => {
    const auth = start().middleware();
    const jwks = (await auth(v1("GET", "/auth/jwt/jwks.json"), context)) as APIGatewayProxyResult;
    expect([jwks.statusCode, JSON.parse(jwks.body).keys]).toEqual([200, expect.any(Array)]);
    const other = (await auth(v1("GET", "/elsewhere"), context)) as APIGatewayProxyResult;
    expect([other.statusCode, JSON.parse(other.body)]).toEqual([404, { message: "not found" }]);
  });

  it("a SessionError the handler throws becomes latchkey's status and body; any other error is rethrown for Lambda", async () => {
    const sessions = start();
    const failing = sessions.middleware(async () => {
      throw new SessionError("STORE_UNAVAILABLE");
    });
    const result = (await failing(v1("GET", "/x"), context)) as APIGatewayProxyResult;
    expect([result.statusCode, JSON.parse(result.body)]).toEqual([503, { message: "session store unavailable", code: "STORE_UNAVAILABLE" }]);
    const broken = sessions.middleware(async () => {
      throw new RangeError("the app's own bug");
    });
    await expect(broken(v1("GET", "/x"), context)).rejects.toThrow("the app's own bug");
  });
});

describe("latchkey/lambda revocations on a warm function", () => {
  // A frozen Lambda process runs no timers between invocations: no interval ever fires here.
  beforeEach(() => {
    jest.spyOn(global, "setInterval").mockImplementation((() => ({ unref() {}, ref() {} })) as never);
  });

  it("polls before verifying when the last poll is older than the interval, and not more often", async () => {
    const clock = fakeClock();
    const store: SessionStore = memoryStore();
    const polls = jest.spyOn(store, "listRevokedSince");
    const warm = start({ store, clock: clock.now });
    const other = lambdaSessions({ logger: false, store, clock: clock.now });
    const login = warm.middleware(async (event) => ({ statusCode: 200, body: (await event.createSession("user-1")).handle }));
    const me = warm.verifySession(async (event) => ({ statusCode: 200, body: event.session.userId }));

    const logged = (await login(v2("POST", "/login"), context)) as APIGatewayProxyStructuredResultV2;
    const cookies = pairs(logged.cookies);
    expect(((await me(v2("GET", "/api/me", {}, cookies), context)) as APIGatewayProxyStructuredResultV2).statusCode).toBe(200);
    await other.revokeSession(logged.body!); // another instance: the warm function's list does not know
    const before = polls.mock.calls.length;
    clock.advance(500);
    expect(((await me(v2("GET", "/api/me", {}, cookies), context)) as APIGatewayProxyStructuredResultV2).statusCode).toBe(200);
    expect(polls.mock.calls.length).toBe(before); // within the interval: no query

    clock.advance(2000);
    const refused = (await me(v2("GET", "/api/me", {}, cookies), context)) as APIGatewayProxyStructuredResultV2;
    expect([refused.statusCode, JSON.parse(refused.body!)]).toEqual([401, { message: "unauthorised" }]);
    expect(polls.mock.calls.length).toBeGreaterThan(before);
  });

  it("while the store fails, a stale poll neither refuses nor holds up verification, and is tried once an interval", async () => {
    const clock = fakeClock();
    const store: SessionStore = memoryStore();
    // Spied before the factory runs, which takes the store's methods as they are then.
    const polls = jest.spyOn(store, "listRevokedSince");
    const warm = start({ store, clock: clock.now });
    const login = warm.middleware(async (event) => ({ statusCode: 200, body: (await event.createSession("user-1")).handle }));
    const me = warm.verifySession(async (event) => ({ statusCode: 200, body: event.session.userId }));
    const cookies = pairs(((await login(v2("POST", "/login"), context)) as APIGatewayProxyStructuredResultV2).cookies);
    polls.mockClear().mockRejectedValue(new Error("connection lost"));
    clock.advance(2500);
    for (let i = 0; i < 3; i++) {
      expect(((await me(v2("GET", "/api/me", {}, cookies), context)) as APIGatewayProxyStructuredResultV2).statusCode).toBe(200);
    }
    expect(polls).toHaveBeenCalledTimes(1);
    clock.advance(2500);
    await me(v2("GET", "/api/me", {}, cookies), context);
    expect(polls).toHaveBeenCalledTimes(2);
  });
});
