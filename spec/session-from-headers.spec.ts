import { SessionError } from "../lib";
import { accessCookie, createApp, describeEachStore, login, request } from "./helpers";

// getSessionFromHeaders (issue 19 WS1): the WebSocket/SSE entry point reads a request's
// headers exactly as verifySession reads a request, and refuses cross-site handshakes.
describeEachStore("getSessionFromHeaders", (stores) => {
  async function fixture(options: Parameters<typeof createApp>[0] = {}) {
    const made = createApp({ store: stores.create(), trustedOrigins: ["https://app.example.com"], ...options });
    const alice = await login(made.app, "alice");
    return { ...made, alice };
  }

  async function refusal(promise: Promise<unknown>): Promise<[string, number]> {
    const error = await promise.then(() => undefined, (caught: unknown) => caught);
    if (!(error instanceof SessionError)) throw new Error(`expected a SessionError, got ${String(error)}`);
    return [error.code, error.status];
  }

  it("resolves the session of the access cookie, as verifySession would", async () => {
    const { sessions, alice } = await fixture();
    const session = await sessions.getSessionFromHeaders({ cookie: accessCookie(alice.access), origin: "https://app.example.com" });
    expect(session.userId).toBe("alice");
  });

  it("refuses a cross-site Origin (cross-site WebSocket hijacking) and a cross-site fetch without one", async () => {
    const { sessions, alice } = await fixture();
    const cookie = accessCookie(alice.access);
    expect(await refusal(sessions.getSessionFromHeaders({ cookie, origin: "https://evil.example" }))).toEqual(["CROSS_ORIGIN_REQUEST", 403]);
    expect(await refusal(sessions.getSessionFromHeaders({ cookie, "sec-fetch-site": "cross-site" }))).toEqual(["CROSS_ORIGIN_REQUEST", 403]);
    // The API's own origin passes by host, as for unsafe requests.
    expect((await sessions.getSessionFromHeaders({ cookie, origin: "http://api.example", host: "api.example" })).userId).toBe("alice");
  });

  it("reads only the __Host- cookie once the connection is secure: a planted plain sAccessToken is never used", async () => {
    const { app, sessions } = await fixture({ cookieSecure: true });
    const res = await request(app).post("/login").send({ userId: "victim" }).expect(200);
    const victim = /__Host-sAccessToken=([^;]+)/.exec(String(res.headers["set-cookie"]))![1]!;
    const attacker = (await login(createApp({ store: stores.create(), cookieSecure: false }).app, "attacker")).access;
    const headers = { cookie: `sAccessToken=${attacker}; __Host-sAccessToken=${victim}`, origin: "https://app.example.com" };
    expect((await sessions.getSessionFromHeaders(headers)).userId).toBe("victim");
    expect(await refusal(sessions.getSessionFromHeaders({ cookie: `sAccessToken=${attacker}` }, { secure: true }))).toEqual(["UNAUTHORISED", 401]);
  });

  it("refuses two access cookies (a cookieDomain change) with try refresh token, and takes Authorization: Bearer only when it is latchkey's", async () => {
    const { sessions, alice } = await fixture();
    const bob = await login((await fixture()).app, "bob");
    const twice = `${accessCookie(alice.access)}; ${accessCookie(bob.access)}`;
    expect(await refusal(sessions.getSessionFromHeaders({ cookie: twice }))).toEqual(["TRY_REFRESH_TOKEN", 401]);
    expect((await sessions.getSessionFromHeaders({ authorization: `Bearer ${alice.access}` })).userId).toBe("alice");
    // An identity provider's JWT beside the cookie leaves the cookie in charge.
    const foreign = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    expect((await sessions.getSessionFromHeaders({ authorization: `Bearer ${foreign}`, cookie: accessCookie(alice.access) })).userId).toBe("alice");
  });

  it("honours sessionRequired, checkDatabase and unknown options like verifySession", async () => {
    const { sessions, alice } = await fixture();
    await expect(sessions.getSessionFromHeaders({}, { sessionRequired: false })).resolves.toBeUndefined();
    expect(await refusal(sessions.getSessionFromHeaders({}))).toEqual(["UNAUTHORISED", 401]);
    await sessions.revokeSession((await sessions.getSessionFromHeaders({ cookie: accessCookie(alice.access) })).handle);
    expect(await refusal(sessions.getSessionFromHeaders({ cookie: accessCookie(alice.access) }, { checkDatabase: true }))).toEqual(["UNAUTHORISED", 401]);
    await expect(sessions.getSessionFromHeaders({}, { checkDatabse: true } as never)).rejects.toThrow("latchkey: unknown getSessionFromHeaders option checkDatabse.");
  });
});
