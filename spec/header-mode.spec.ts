import { generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { accessCookie, createApp, decodeFrontToken, decodeJwtPart, describeEachStore, fakeClock, login, request, setCookies } from "./helpers";

const REFRESH = "/auth/session/refresh";

describeEachStore("header mode (st-auth-mode: header)", (stores) => {
  async function headerLogin(app: Parameters<typeof request>[0], userId = "user-1") {
    const res = await request(app).post("/login").set("st-auth-mode", "header").send({ userId }).expect(200);
    return { res, access: res.headers["st-access-token"] as string, refresh: res.headers["st-refresh-token"] as string };
  }

  it("sends tokens in st-access-token / st-refresh-token headers and sets no token cookie", async () => {
    const { app } = createApp({ store: stores.create() });
    const { res, access, refresh } = await headerLogin(app);
    expect(access.split(".")).toHaveLength(3);
    expect(refresh).toMatch(/^[0-9a-f-]{36}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.headers["access-control-expose-headers"]).toBe("front-token, st-access-token, st-refresh-token");
    expect(decodeFrontToken(res.headers["front-token"] as string).uid).toBe("user-1");
  });

  it("accepts Authorization: Bearer on protected routes and on refresh, answering refresh in headers", async () => {
    const clock = fakeClock();
    const { app } = createApp({ store: stores.create(), clock: clock.now });
    const { access, refresh } = await headerLogin(app);
    const me = await request(app).get("/api/me").set("Authorization", `Bearer ${access}`).expect(200);
    expect(me.body.userId).toBe("user-1");

    clock.advance(16 * 60_000);
    const expired = await request(app).get("/api/me").set("Authorization", `Bearer ${access}`).expect(401);
    expect(expired.body).toEqual({ message: "try refresh token" });

    const rotated = await request(app)
      .post(REFRESH)
      .set("st-auth-mode", "header")
      .set("Authorization", `Bearer ${refresh}`)
      .expect(200);
    expect(rotated.headers["set-cookie"]).toBeUndefined();
    const next = rotated.headers["st-access-token"] as string;
    expect(rotated.headers["st-refresh-token"]).not.toBe(refresh);
    await request(app).get("/api/me").set("Authorization", `Bearer ${next}`).expect(200);
  });

  it("clears header-mode tokens with empty headers and front-token: remove", async () => {
    const { app } = createApp({ store: stores.create() });
    const { access } = await headerLogin(app);
    const res = await request(app).post("/auth/signout").set("st-auth-mode", "header").set("Authorization", `Bearer ${access}`).expect(200);
    expect(res.body).toEqual({ status: "OK" });
    expect(res.headers["st-access-token"]).toBe("");
    expect(res.headers["st-refresh-token"]).toBe("");
    expect(res.headers["front-token"]).toBe("remove");
    expect(res.headers["set-cookie"]).toBeUndefined();

    // A refused bearer refresh token is cleared the way it came: empty headers.
    const unknown = `00000000-0000-4000-8000-000000000000.${"A".repeat(22)}.${"A".repeat(43)}`;
    const refused = await request(app).post(REFRESH).set("st-auth-mode", "header").set("Authorization", `Bearer ${unknown}`).expect(401);
    expect(refused.body).toEqual({ message: "unauthorised" });
    expect([refused.headers["st-access-token"], refused.headers["st-refresh-token"], refused.headers["front-token"]]).toEqual(["", "", "remove"]);
    // A bearer value that is no token at all ("Bearer undefined" from the SDK) is no credential: nothing to clear.
    const nonsense = await request(app).post(REFRESH).set("st-auth-mode", "header").set("Authorization", "Bearer undefined").expect(401);
    expect([nonsense.headers["st-refresh-token"], nonsense.headers["front-token"], nonsense.headers["set-cookie"]]).toEqual([undefined, undefined, undefined]);
  });

  it("gives a request without st-auth-mode cookies", async () => {
    const { app } = createApp({ store: stores.create() });
    const res = await request(app).post("/login").send({ userId: "u" }).expect(200);
    expect(res.headers["st-access-token"]).toBeUndefined();
    expect(res.headers["set-cookie"]).toHaveLength(2);
  });

  it("needs no CSRF check for bearer tokens: a foreign Origin with Authorization passes", async () => {
    const { app } = createApp({ store: stores.create() });
    const { access } = await headerLogin(app);
    await request(app).post("/api/me").set("Origin", "https://evil.example").set("Authorization", `Bearer ${access}`).expect(200);
  });

  it("answers a token-less refresh (the SDK's first-visit probe) with 401 and clears nothing it never sent", async () => {
    const { app } = createApp({ store: stores.create() });
    const res = await request(app).post(REFRESH).set("rid", "session").set("fdi-version", "1.16,2.0,4.0").expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    // The SDK takes a 401 without front-token as "no session" (front-token: remove) itself;
    // sending no Set-Cookie keeps a parallel login's fresh cookies (supertokens-node#17).
    expect(res.headers["front-token"]).toBeUndefined();
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("#83 parses Authorization and st-auth-mode strictly and deterministically", async () => {
    const { app } = createApp({ store: stores.create() });
    const header = await request(app).post("/login").set("st-auth-mode", "header").send({ userId: "by-header" }).expect(200);
    const bearer = header.headers["st-access-token"] as string;
    const cookie = (await login(app, "by-cookie")).access;

    const who = async (headers: Record<string, string>) => {
      const res = await request(app).get("/api/me").set(headers);
      return [res.status, res.body.userId ?? res.body.message];
    };
    expect(await who({ Authorization: `bearer ${bearer}` })).toEqual([200, "by-header"]);
    expect(await who({ Authorization: `Bearer  ${bearer}` })).toEqual([200, "by-header"]);
    expect(await who({ Authorization: "Bearer" })).toEqual([401, "unauthorised"]);
    expect(await who({ Authorization: "Basic dXNlcjpwYXNz" })).toEqual([401, "unauthorised"]);
    expect(await who({ Authorization: `Token ${bearer}` })).toEqual([401, "unauthorised"]);
    // Both carriers: the bearer token wins (README, header mode), every time.
    for (let i = 0; i < 3; i++) expect(await who({ Authorization: `Bearer ${bearer}`, Cookie: accessCookie(cookie) })).toEqual([200, "by-header"]);
    // A non-bearer Authorization leaves the cookie in charge.
    expect(await who({ Authorization: "Basic dXNlcjpwYXNz", Cookie: accessCookie(cookie) })).toEqual([200, "by-cookie"]);

    for (const mode of ["HEADER", "Header", "garbage", ""]) {
      const res = await request(app).post("/login").set("st-auth-mode", mode).send({ userId: "u" }).expect(200);
      expect(res.headers["st-access-token"]).toBeUndefined();
      expect(setCookies(res).has("sAccessToken")).toBe(true);
    }
    const rid = `rid-${"r".repeat(4000)}`;
    const withRid = await request(app).post("/api/me").set("Cookie", accessCookie(cookie)).set("rid", rid).expect(200);
    expect(JSON.stringify(withRid.headers) + withRid.text).not.toContain(rid);
  });

  describe("a bearer token that is not this deployment's (B4)", () => {
    // An identity provider's ID token, or a third-party API token the app sends along: the
    // SuperTokens SDK passes the app's own Authorization through in cookie mode.
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const idToken = jwt.sign({ sub: "user-1", iss: "https://idp.example" }, privateKey, { algorithm: "ES256", keyid: "idp-key-1", expiresIn: 600 });

    it.each([
      ["an identity provider's ID token (typ JWT, its own kid)", () => idToken],
      ["a latchkey token of another deployment (at+jwt, a kid of another secret)", async () => (await headerLogin(createApp({ store: stores.create() }).app)).access],
    ])("leaves the session cookie in charge: %s", async (_name, foreign) => {
      const { app } = createApp({ store: stores.create() });
      const { access } = await login(app, "by-cookie");
      const bearer = await foreign();
      for (const route of ["/api/me", "/api/strict"]) {
        const res = await request(app).get(route).set("Authorization", `Bearer ${bearer}`).set("Cookie", accessCookie(access)).expect(200);
        expect(res.body.userId).toBe("by-cookie");
        expect([res.headers["set-cookie"], res.headers["front-token"]]).toEqual([undefined, undefined]);
      }
      // Without a cookie it is no token at all: 401 unauthorised, nothing cleared.
      const alone = await request(app).get("/api/me").set("Authorization", `Bearer ${bearer}`).expect(401);
      expect(alone.body).toEqual({ message: "unauthorised" });
      expect([alone.headers["set-cookie"], alone.headers["front-token"]]).toEqual([undefined, undefined]);
    });

    it("a refused bearer token of this deployment never expires the cookies the request carried", async () => {
      const { app, sessions } = createApp({ store: stores.create() });
      const { access: bearer } = await headerLogin(app, "by-header");
      const { access: cookie } = await login(app, "by-cookie");
      const handle = decodeJwtPart(bearer, 1).sid as string;
      expect(await sessions.revokeSession(handle)).toBe(true);
      const res = await request(app).get("/api/strict").set("Authorization", `Bearer ${bearer}`).set("Cookie", accessCookie(cookie)).expect(401);
      expect(res.body).toEqual({ message: "unauthorised" });
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect([res.headers["st-access-token"], res.headers["front-token"]]).toEqual(["", "remove"]);
      // The cookie session is untouched.
      expect((await request(app).get("/api/strict").set("Cookie", accessCookie(cookie)).expect(200)).body.userId).toBe("by-cookie");
    });
  });
});
