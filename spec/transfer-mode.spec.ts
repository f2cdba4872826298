import { verifySession } from "../lib";
import { accessCookie, createApp, decodeFrontToken, describeEachStore, login, refreshCookie, request, setCookies, tokensOf, type TestApp } from "./helpers";

const REFRESH = "/auth/session/refresh";
const TOKEN_HEADERS = ["st-access-token", "st-refresh-token"];

/** The token headers a response carries (present even when empty). */
function tokenHeaders(res: { headers: Record<string, unknown> }): string[] {
  return TOKEN_HEADERS.filter((name) => res.headers[name] !== undefined);
}

// Issue 10 item 2: tokens that live in HttpOnly cookies never appear in a response header,
// whatever st-auth-mode says; st-auth-mode decides only for a request that carries no token.
describeEachStore("transfer mode follows the credential", (stores) => {
  let fixture: TestApp;

  beforeEach(() => {
    fixture = createApp({ store: stores.create() });
    fixture.app.post("/api/promote", verifySession(), async (req, res) => {
      await req.session!.mergeIntoAccessTokenPayload({ role: "admin" });
      res.json({ ok: true });
    });
  });

  it("answers a cookie refresh that asks for header mode (page script's trick) with Set-Cookie and no token header", async () => {
    const { refresh } = await login(fixture.app);
    const res = await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(refresh)).set("st-auth-mode", "header").expect(200);
    expect(tokenHeaders(res)).toEqual([]);
    expect(String(res.headers["access-control-expose-headers"])).not.toMatch(/st-(access|refresh)-token/);
    expect([...setCookies(res).keys()]).toEqual(["sAccessToken", "sRefreshToken"]);
    expect(decodeFrontToken(res.headers["front-token"] as string).uid).toBe("user-1");
  });

  it("re-signs a payload change of a cookie session as a cookie, whatever st-auth-mode says", async () => {
    const { access } = await login(fixture.app);
    const res = await request(fixture.app).post("/api/promote").set("Cookie", accessCookie(access)).set("st-auth-mode", "header").expect(200);
    expect(tokenHeaders(res)).toEqual([]);
    expect([...setCookies(res).keys()]).toEqual(["sAccessToken"]);
    expect(decodeFrontToken(res.headers["front-token"] as string).up.role).toBe("admin");
  });

  it("signs a cookie session out with cookies cleared and no token header, whatever st-auth-mode says", async () => {
    const { access } = await login(fixture.app);
    const res = await request(fixture.app).post("/auth/signout").set("Cookie", accessCookie(access)).set("st-auth-mode", "header").expect(200);
    expect(tokenHeaders(res)).toEqual([]);
    expect(setCookies(res).get("sAccessToken")?.value).toBe("");
    expect(res.headers["front-token"]).toBe("remove");
  });

  it("keeps a header session in headers, even when the request asks for cookies", async () => {
    const created = await request(fixture.app).post("/login").set("st-auth-mode", "header").send({ userId: "user-1" }).expect(200);
    expect(tokenHeaders(created)).toEqual(TOKEN_HEADERS);
    expect(created.headers["set-cookie"]).toBeUndefined();
    const refreshed = await request(fixture.app)
      .post(REFRESH)
      .set("Authorization", `Bearer ${created.headers["st-refresh-token"]}`)
      .set("st-auth-mode", "cookie")
      .expect(200);
    expect(tokenHeaders(refreshed)).toEqual(TOKEN_HEADERS);
    expect(refreshed.headers["set-cookie"]).toBeUndefined();
    const promoted = await request(fixture.app)
      .post("/api/promote")
      .set("Authorization", `Bearer ${refreshed.headers["st-access-token"]}`)
      .set("st-auth-mode", "cookie")
      .expect(200);
    expect(tokenHeaders(promoted)).toEqual(["st-access-token"]);
    expect(promoted.headers["set-cookie"]).toBeUndefined();
  });

  it("lets st-auth-mode choose for a login that carries no token, and the carried cookie for one that does", async () => {
    const fresh = await request(fixture.app).post("/login").set("st-auth-mode", "header").send({ userId: "user-1" }).expect(200);
    expect(tokenHeaders(fresh)).toEqual(TOKEN_HEADERS);
    const { access } = await login(fixture.app, "user-1");
    const again = await request(fixture.app).post("/login").set("Cookie", accessCookie(access)).set("st-auth-mode", "header").send({ userId: "user-2" }).expect(200);
    expect(tokenHeaders(again)).toEqual([]);
    expect([...setCookies(again).keys()]).toEqual(["sAccessToken", "sRefreshToken"]);
  });

  it("with exposeAccessTokenToFrontendInCookieBasedAuth, also sends the access token (never the refresh token) in cookie mode", async () => {
    const exposed = createApp({ store: stores.create(), exposeAccessTokenToFrontendInCookieBasedAuth: true });
    const created = await request(exposed.app).post("/login").send({ userId: "user-1" }).expect(200);
    const { access, refresh } = tokensOf(created);
    expect(created.headers["st-access-token"]).toBe(access);
    expect(created.headers["st-refresh-token"]).toBeUndefined();
    expect(created.headers["access-control-expose-headers"]).toBe("front-token, st-access-token");
    const rotated = await request(exposed.app).post(REFRESH).set("Cookie", refreshCookie(refresh)).set("st-auth-mode", "header").expect(200);
    expect(rotated.headers["st-access-token"]).toBe(tokensOf(rotated).access);
    expect(rotated.headers["st-refresh-token"]).toBeUndefined();
    const out = await request(exposed.app).post("/auth/signout").set("Cookie", accessCookie(tokensOf(rotated).access)).expect(200);
    expect(out.headers["st-access-token"]).toBe("");
    expect(out.headers["st-refresh-token"]).toBeUndefined();
  });
});
