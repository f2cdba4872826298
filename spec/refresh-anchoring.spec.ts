import { createApp, decodeFrontToken, describeEachStore, fakeClock, request, setCookies, type TestApp } from "./helpers";

const REFRESH = "/auth/session/refresh";
const ACCESS = "__Host-sAccessToken";
const REFRESH_COOKIE = "__Secure-sRefreshToken";

interface Pair {
  access: string;
  refresh: string;
  handle: string;
}

// Issue 10 item 3: over HTTPS the cookies are __Host-sAccessToken (no subdomain can set it)
// and __Secure-sRefreshToken (which a sibling subdomain CAN plant with Domain=<parent>, and
// browsers send first). The access cookie anchors the refresh to its own session.
describeEachStore("refresh anchored to the __Host- access cookie", (stores) => {
  let fixture: TestApp;
  let clock: ReturnType<typeof fakeClock>;

  beforeEach(() => {
    clock = fakeClock();
    fixture = createApp({ store: stores.create(), clock: clock.now });
    fixture.app.set("trust proxy", true); // X-Forwarded-Proto: https makes the request secure
  });

  const https = (test: request.Test) => test.set("X-Forwarded-Proto", "https");

  async function loginOverHttps(userId: string): Promise<Pair> {
    const res = await https(request(fixture.app).post("/login")).send({ userId }).expect(200);
    const cookies = setCookies(res);
    return { access: cookies.get(ACCESS)?.value ?? "", refresh: cookies.get(REFRESH_COOKIE)?.value ?? "", handle: res.body.handle };
  }

  const refreshWith = (cookie: string) => https(request(fixture.app).post(REFRESH)).set("Cookie", cookie);

  it("uses the victim's refresh cookie, not the attacker's planted one sent first", async () => {
    const victim = await loginOverHttps("victim");
    const attacker = await loginOverHttps("attacker");
    // What the browser sends after attacker.example.com planted its cookie on example.com.
    const res = await refreshWith(`${REFRESH_COOKIE}=${attacker.refresh}; ${REFRESH_COOKIE}=${victim.refresh}; ${ACCESS}=${victim.access}`).expect(200);
    expect(decodeFrontToken(res.headers["front-token"] as string).uid).toBe("victim");
    expect(setCookies(res).get(REFRESH_COOKIE)?.value.startsWith(`${victim.handle}.`)).toBe(true);
    // The attacker's session was not touched (not rotated, not taken for theft).
    expect(fixture.events.refreshed.map((event) => event.handle)).toEqual([victim.handle]);
    expect(fixture.events.theft).toEqual([]);
  });

  it("uses the anchored one also when the victim's access token has expired", async () => {
    const victim = await loginOverHttps("victim");
    const attacker = await loginOverHttps("attacker");
    clock.advance(3_600_000);
    const res = await refreshWith(`${REFRESH_COOKIE}=${attacker.refresh}; ${REFRESH_COOKIE}=${victim.refresh}; ${ACCESS}=${victim.access}`).expect(200);
    expect(decodeFrontToken(res.headers["front-token"] as string).uid).toBe("victim");
  });

  it("refuses when the only refresh cookie belongs to another session than the access cookie", async () => {
    const victim = await loginOverHttps("victim");
    const attacker = await loginOverHttps("attacker");
    const res = await refreshWith(`${REFRESH_COOKIE}=${attacker.refresh}; ${ACCESS}=${victim.access}`).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    expect(fixture.events.refreshed).toEqual([]);
  });

  it("refuses refresh cookies of several sessions without an access cookie, instead of trying the first that works", async () => {
    const victim = await loginOverHttps("victim");
    const attacker = await loginOverHttps("attacker");
    const res = await refreshWith(`${REFRESH_COOKIE}=${attacker.refresh}; ${REFRESH_COOKIE}=${victim.refresh}`).expect(401);
    expect(res.body).toEqual({ message: "unauthorised" });
    expect(fixture.events.refreshed).toEqual([]);
    expect(fixture.events.theft).toEqual([]);
  });

  it("ignores an access cookie it cannot verify as an anchor (forged, or another deployment's)", async () => {
    const victim = await loginOverHttps("victim");
    const other = createApp({ store: stores.create() });
    const foreign = setCookies(await request(other.app).post("/login").send({ userId: "x" }).expect(200)).get("sAccessToken")?.value ?? "";
    await refreshWith(`${REFRESH_COOKIE}=${victim.refresh}; ${ACCESS}=${foreign}`).expect(200);
  });

  it("takes two refresh cookies of one session (a cookieDomain change) as one browser's: the live one rotates, the stale one is no theft", async () => {
    const victim = await loginOverHttps("victim");
    const stale = victim.refresh;
    const current = setCookies(await refreshWith(`${REFRESH_COOKIE}=${stale}`).expect(200)).get(REFRESH_COOKIE)?.value ?? "";
    clock.advance(60_000); // past the grace window: the stale one alone would be theft
    const res = await refreshWith(`${REFRESH_COOKIE}=${stale}; ${REFRESH_COOKIE}=${current}; ${ACCESS}=${victim.access}`).expect(200);
    expect(fixture.events.theft).toEqual([]);
    expect(setCookies(res).get(REFRESH_COOKIE)?.value).not.toBe(current);
  });
});
