import type { Browser, BrowserContext, Cookie, Page } from "playwright-core";
import { BooleanClaim, errorHandler, PrimitiveArrayClaim, verifySession, type SessionMiddlewareOptions, type SessionStore } from "../../lib";
import { describeEachStore } from "../helpers";
import { apiApp, close, decodeFrontToken, decodeJwtPayload, launchBrowser, listen, sdkPageApp, type ApiCounters, type Running } from "./harness";

// What the published SDK (supertokens-web-js 0.16.0's bundles, in Chromium) expects of
// latchkey, beyond the basics in frontend-sdk.e2e.spec.ts: tokens it cannot use (#12),
// claims read by its own validators (#13), and getAccessToken() in cookie mode (#14).
const TTL_MS = 2000;
// Tests that count refreshes run with a token that cannot expire mid-test, however loaded the machine.
const STEADY: SessionMiddlewareOptions = { accessTokenTtl: "1h", refreshTokenTtl: "2h" };
jest.setTimeout(60_000);

type Mode = "cookie" | "header";
interface ClaimError {
  id: string;
  reason?: Record<string, unknown>;
}
interface PageClaim {
  validators: Record<string, (...args: unknown[]) => unknown>;
}
/** What the page (sdkPageApp) puts on `window`. */
interface W {
  supertokensSession: {
    doesSessionExist(): Promise<boolean>;
    getAccessToken(): Promise<string | undefined>;
    getAccessTokenPayloadSecurely(): Promise<Record<string, unknown>>;
    attemptRefreshingSession(): Promise<boolean>;
    signOut(): Promise<void>;
    validateClaims(input?: { overrideGlobalClaimValidators?: (globals: unknown[]) => unknown[] }): Promise<ClaimError[]>;
    getClaimValue(input: { claim: PageClaim }): Promise<unknown>;
  };
  supertokensEmailVerification: { EmailVerificationClaim: PageClaim };
  supertokensUserRoles: { UserRoleClaim: PageClaim };
  events: { action: string; claimValidationErrors?: ClaimError[] }[];
  login(userId: string): Promise<number>;
  call(path: string, init?: { method?: string; headers?: Record<string, string> }): Promise<{ status: number; body: unknown }>;
  getData(): Promise<{ status: number; body: unknown }>;
}

/** One request/response pair the page made to the API, with every header (cookies included). */
interface Exchange {
  method: string;
  path: string;
  status: number;
  request: Record<string, string>;
  response: Record<string, string>;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describeEachStore("what the published SDK expects of latchkey", (stores) => {
  let server: Running | undefined;
  let context: BrowserContext | undefined;
  let counters: ApiCounters;
  let store: SessionStore;
  let exchanges: Exchange[];
  let pending: Promise<void>[];

  /** The API and the page on one origin (the API in front); returns the page URL without `mode`. */
  async function start(options: SessionMiddlewareOptions = {}, extend?: (app: ReturnType<typeof apiApp>["app"]) => void): Promise<string> {
    store = stores.create();
    const built = apiApp({ store, accessTokenTtl: `${TTL_MS}ms`, ...options });
    counters = built.counters;
    if (extend) {
      extend(built.app);
      built.app.use(errorHandler());
    }
    built.app.use(sdkPageApp({ bundles: ["emailverification", "userroles"] }));
    server = await listen(built.app);
    context = await browser.newContext();
    exchanges = [];
    pending = [];
    return `${server.url}/?api=${encodeURIComponent(server.url)}`;
  }

  async function open(url: string, mode: Mode, tab?: Page): Promise<Page> {
    const page = tab ?? (await (context as BrowserContext).newPage());
    if (!tab) {
      page.on("response", (response) => {
        const request = response.request();
        const { pathname } = new URL(request.url());
        if (pathname === "/" || pathname.startsWith("/sdk/")) return;
        pending.push(
          (async () => {
            const [requestHeaders, responseHeaders] = await Promise.all([request.allHeaders(), response.allHeaders()]);
            exchanges.push({ method: request.method(), path: pathname, status: response.status(), request: requestHeaders, response: responseHeaders });
          })(),
        );
      });
    }
    await page.goto(`${url}&mode=${mode}`);
    await page.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true);
    return page;
  }

  /** The exchanges recorded so far (waits for their headers), from index `from`. */
  async function recorded(from = 0): Promise<Exchange[]> {
    await Promise.all(pending);
    return exchanges.slice(from);
  }

  async function cookie(name: string): Promise<Cookie | undefined> {
    return (await (context as BrowserContext).cookies()).find((c) => c.name === name);
  }

  async function eventCount(tab: Page): Promise<number> {
    return tab.evaluate(() => (globalThis as unknown as W).events.length);
  }

  /** The SDK events fired since `from` (events of a page that was reloaded start again at 0). */
  async function eventsSince(tab: Page, from: number): Promise<string[]> {
    return tab.evaluate((start) => (globalThis as unknown as W).events.slice(start).map((e) => e.action), from);
  }

  afterEach(async () => {
    await context?.close();
    await close(server);
    server = context = undefined;
  });

  describe("#12: tokens the SDK cannot use", () => {
    it("a page logged in in cookie mode and re-initialised in header mode keeps getting its data from the cookie, `Authorization: Bearer undefined` included", async () => {
      const url = await start(STEADY);
      const tab = await open(url, "cookie");
      expect(await tab.evaluate(() => (globalThis as unknown as W).login("user-1"))).toBe(200);
      expect((await cookie("sAccessToken"))?.httpOnly).toBe(true);

      // The app switches to tokenTransferMethod "header": same tab, reloaded.
      await open(url, "header", tab);
      const from = (await recorded()).length;
      const refreshes = counters.refreshes;
      const events = await eventCount(tab);
      expect(await tab.evaluate(() => (globalThis as unknown as W).supertokensSession.doesSessionExist())).toBe(true);
      // The SDK's own request: it adds Authorization only when it holds both st-access-token
      // and st-refresh-token JS cookies, so it sends none here; the cookie answers.
      expect(await tab.evaluate(() => (globalThis as unknown as W).getData())).toEqual({ status: 200, body: { userId: "user-1" } });
      // What apps write to call APIs with the token: getAccessToken() is undefined (no
      // st-access-token JS cookie), so the intercepted fetch goes out with "Bearer undefined".
      const sent = await tab.evaluate(async () => {
        const page = globalThis as unknown as W;
        const token = await page.supertokensSession.getAccessToken();
        return { token: token ?? null, result: await page.call("/api/data", { headers: { Authorization: `Bearer ${token}` } }) };
      });
      expect(sent).toEqual({ token: null, result: { status: 200, body: { userId: "user-1" } } });

      const data = (await recorded(from)).filter((x) => x.path === "/api/data");
      expect(data.map((x) => [x.request["st-auth-mode"], x.request.authorization ?? null, x.status])).toEqual([
        ["header", null, 200],
        ["header", "Bearer undefined", 200],
      ]);
      for (const exchange of data) {
        expect(exchange.request.cookie).toContain("sAccessToken=");
        expect(exchange.response["set-cookie"]).toBeUndefined();
        expect(exchange.response["front-token"]).toBeUndefined();
      }
      expect(counters.refreshes).toBe(refreshes);
      expect(counters.data).toBe(2);
      expect(await eventsSince(tab, events)).toEqual([]);
    });

    it("a corrupted HttpOnly access cookie is no token: 401 without clearing, the SDK refreshes and its call succeeds with no new login", async () => {
      const tab = await open(await start(STEADY), "cookie");
      expect(await tab.evaluate(() => (globalThis as unknown as W).login("user-1"))).toBe(200);
      const original = (await cookie("sAccessToken")) as Cookie;
      expect(original.httpOnly).toBe(true);
      const { name, domain, path, expires, httpOnly, secure, sameSite } = original;
      await (context as BrowserContext).addCookies([{ name, value: "corrupted-cookie-value", domain, path, expires, httpOnly, secure, sameSite }]);
      expect((await cookie("sAccessToken"))?.value).toBe("corrupted-cookie-value");

      // Past the login's second, so that the refreshed token's iat (whole seconds) always differs.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const from = (await recorded()).length;
      const before = counters.refreshes;
      const events = await eventCount(tab);
      expect(await tab.evaluate(() => (globalThis as unknown as W).getData())).toEqual({ status: 200, body: { userId: "user-1" } });
      expect(counters.refreshes).toBe(before + 1);
      expect(counters.theft).toBe(0);

      const seen = await recorded(from);
      expect(seen.map((x) => `${x.method} ${x.path} ${x.status}`)).toEqual([
        "GET /api/data 401",
        "POST /auth/session/refresh 200",
        "GET /api/data 200",
      ]);
      const [refused] = seen;
      expect(refused?.request.cookie).toContain("sAccessToken=corrupted-cookie-value");
      expect(refused?.response["set-cookie"]).toBeUndefined();
      expect(refused?.response["front-token"]).toBeUndefined();
      const repaired = (await cookie("sAccessToken")) as Cookie;
      expect(decodeJwtPayload(repaired.value).sub).toBe("user-1");
      // The refreshed token's iat and exp differ from the login's (a second has passed, see above), so the SDK
      // reports a payload update with its refresh, as it does against SuperTokens; never a sign-out or a new session.
      expect(await eventsSince(tab, events)).toEqual(["ACCESS_TOKEN_PAYLOAD_UPDATED", "REFRESH_SESSION"]);
      expect(await store.listForUser("user-1", Date.now(), { limit: 10 })).toHaveLength(1);
    });

    it.each(["cookie", "header"] as const)(
      "%s mode: a token never outlives accessTokenTtl (2 s): ate equals exp, and after exactly 2000 ms the SDK refreshes",
      async (mode) => {
        const tab = await open(await start(), mode);
        const accessToken = async () =>
          (await cookie(mode === "cookie" ? "sAccessToken" : "st-access-token"))?.value;
        const frontToken = async () => decodeFrontToken(((await cookie("sFrontToken")) as Cookie).value);

        const loginStart = Date.now();
        expect(await tab.evaluate(() => (globalThis as unknown as W).login("user-1"))).toBe(200);
        const loggedIn = Date.now();
        const first = decodeJwtPayload((await accessToken()) as string);
        expect((await frontToken()).ate).toBe(first.exp * 1000);
        // Signed between loginStart and loggedIn: exp may not pass sign time + 2000 ms.
        expect(first.exp * 1000).toBeLessThanOrEqual(loggedIn + TTL_MS);
        expect(first.exp * 1000).toBeGreaterThan(loginStart + TTL_MS - 1000);

        // The SDK's own tests: wait exactly the lifetime, expect getAccessTokenPayloadSecurely() to refresh.
        await tab.waitForTimeout(Math.max(0, loggedIn + TTL_MS - Date.now()));
        const before = counters.refreshes;
        const payload = await tab.evaluate(() => (globalThis as unknown as W).supertokensSession.getAccessTokenPayloadSecurely());
        const refreshed = Date.now();
        expect(counters.refreshes).toBe(before + 1);
        const second = decodeJwtPayload((await accessToken()) as string);
        expect(payload).toMatchObject({ sub: "user-1", exp: second.exp });
        expect(second.exp).toBeGreaterThan(first.exp);
        expect((await frontToken()).ate).toBe(second.exp * 1000);
        expect(second.exp * 1000).toBeLessThanOrEqual(refreshed + TTL_MS);

        // And an API call exactly one lifetime after that refresh: the server refuses the token, the SDK refreshes.
        await tab.waitForTimeout(Math.max(0, refreshed + TTL_MS - Date.now()));
        expect(await tab.evaluate(() => (globalThis as unknown as W).getData())).toEqual({ status: 200, body: { userId: "user-1" } });
        expect(counters.refreshes).toBe(before + 2);
        const third = decodeJwtPayload((await accessToken()) as string);
        expect((await frontToken()).ate).toBe(third.exp * 1000);
        expect(counters.theft).toBe(0);
      },
    );
  });

  describe.each(["cookie", "header"] as const)("#13: the SDK's EmailVerificationClaim and UserRoleClaim (%s mode)", (mode) => {
    it("read latchkey's claims; a failed server validator fires API_INVALID_CLAIM with its errors; fetchAndSetClaim fixes it without a reload", async () => {
      const verified = new Set<string>();
      const roles = new Map<string, string[]>([["user-1", ["user"]]]);
      const EmailVerified = new BooleanClaim({ key: "st-ev", fetchValue: (userId) => verified.has(userId) });
      const Roles = new PrimitiveArrayClaim<string>({ key: "st-role", fetchValue: (userId) => roles.get(userId) ?? [] });
      const url = await start({ ...STEADY, claims: [EmailVerified, Roles], globalClaimValidators: [EmailVerified.validators.isTrue()] }, (app) => {
        app.get("/api/admin", verifySession({ overrideGlobalClaimValidators: (globals) => [...globals, Roles.validators.includes("admin")] }), (req, res) => {
          res.json({ admin: req.session!.userId });
        });
        app.post("/api/claims/refetch", verifySession({ overrideGlobalClaimValidators: () => [] }), async (req, res, next) => {
          try {
            await req.session!.fetchAndSetClaim(EmailVerified);
            await req.session!.fetchAndSetClaim(Roles);
            res.json({ ok: true });
          } catch (error) {
            next(error);
          }
        });
      });
      const tab = await open(url, mode);
      expect(await tab.evaluate(() => (globalThis as unknown as W).login("user-1"))).toBe(200);

      const pageView = () =>
        tab.evaluate(async () => {
          const page = globalThis as unknown as W;
          const session = page.supertokensSession;
          const { EmailVerificationClaim } = page.supertokensEmailVerification;
          const { UserRoleClaim } = page.supertokensUserRoles;
          return {
            verified: await session.getClaimValue({ claim: EmailVerificationClaim }),
            roles: await session.getClaimValue({ claim: UserRoleClaim }),
            isVerified: await session.validateClaims({ overrideGlobalClaimValidators: () => [EmailVerificationClaim.validators.isVerified!()] }),
            isAdmin: await session.validateClaims({ overrideGlobalClaimValidators: () => [UserRoleClaim.validators.includes!("admin")] }),
            // The EmailVerification recipe adds isVerified to the SDK's global validators.
            globals: await session.validateClaims(),
          };
        });

      const wrongEv = { id: "st-ev", reason: { message: "wrong value", expectedValue: true, actualValue: false } };
      const wrongRole = { id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: ["user"] } };
      expect(await pageView()).toEqual({ verified: false, roles: ["user"], isVerified: [wrongEv], isAdmin: [wrongRole], globals: [wrongEv] });

      // Server validators fail: 403, and the SDK fires API_INVALID_CLAIM with the server's errors.
      expect(await tab.evaluate(() => (globalThis as unknown as W).getData())).toEqual({
        status: 403,
        body: { message: "invalid claim", claimValidationErrors: [wrongEv] },
      });
      expect(await tab.evaluate(() => (globalThis as unknown as W).call("/api/admin"))).toEqual({
        status: 403,
        body: { message: "invalid claim", claimValidationErrors: [wrongEv, wrongRole] },
      });
      const invalid = (await tab.evaluate(() => (globalThis as unknown as W).events)).filter((e) => e.action === "API_INVALID_CLAIM");
      expect(invalid).toEqual([
        { action: "API_INVALID_CLAIM", claimValidationErrors: [wrongEv] },
        { action: "API_INVALID_CLAIM", claimValidationErrors: [wrongEv, wrongRole] },
      ]);

      // The user verifies and becomes an admin; the app refetches the claims on the session.
      verified.add("user-1");
      roles.set("user-1", ["user", "admin"]);
      const refreshesBefore = counters.refreshes;
      expect(await tab.evaluate(() => (globalThis as unknown as W).call("/api/claims/refetch", { method: "POST" }))).toEqual({ status: 200, body: { ok: true } });
      expect(await pageView()).toEqual({ verified: true, roles: ["user", "admin"], isVerified: [], isAdmin: [], globals: [] });
      expect(await tab.evaluate(() => (globalThis as unknown as W).getData())).toEqual({ status: 200, body: { userId: "user-1" } });
      expect(await tab.evaluate(() => (globalThis as unknown as W).call("/api/admin"))).toEqual({ status: 200, body: { admin: "user-1" } });
      expect(counters.refreshes).toBe(refreshesBefore);
      const actions = await tab.evaluate(() => (globalThis as unknown as W).events.map((e) => e.action));
      expect(actions).toContain("ACCESS_TOKEN_PAYLOAD_UPDATED");
      expect(actions.filter((a) => a === "API_INVALID_CLAIM")).toHaveLength(2);
    });
  });

  describe("#14: exposeAccessTokenToFrontendInCookieBasedAuth", () => {
    it("with it, getAccessToken() in cookie mode returns the HttpOnly cookie's JWT after login and after a refresh; the refresh token never reaches JS", async () => {
      const tab = await open(await start({ ...STEADY, exposeAccessTokenToFrontendInCookieBasedAuth: true }), "cookie");
      const getAccessToken = () => tab.evaluate(() => (globalThis as unknown as W).supertokensSession.getAccessToken());
      const documentCookie = () => tab.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie);

      expect(await tab.evaluate(() => (globalThis as unknown as W).login("user-1"))).toBe(200);
      const from = (await recorded()).length;
      const first = (await cookie("sAccessToken")) as Cookie;
      expect(first.httpOnly).toBe(true);
      expect(await getAccessToken()).toBe(first.value);
      expect(decodeJwtPayload(first.value).sub).toBe("user-1");

      expect(await tab.evaluate(() => (globalThis as unknown as W).supertokensSession.attemptRefreshingSession())).toBe(true);
      const second = (await cookie("sAccessToken")) as Cookie;
      expect(second.value).not.toBe(first.value);
      expect(await getAccessToken()).toBe(second.value);
      // Still cookie mode: the SDK adds no Authorization (it holds no st-refresh-token), the cookie answers.
      expect(await tab.evaluate(() => (globalThis as unknown as W).getData())).toEqual({ status: 200, body: { userId: "user-1" } });

      const refreshCookie = (await cookie("sRefreshToken")) as Cookie;
      expect(refreshCookie.httpOnly).toBe(true);
      const jsCookies = await documentCookie();
      expect(jsCookies.split("; ")).toContain(`st-access-token=${second.value}`);
      expect(jsCookies).not.toContain("st-refresh-token");
      expect(jsCookies).not.toContain(refreshCookie.value);
      expect(jsCookies).not.toContain("sRefreshToken");
      const seen = await recorded(from - 1);
      expect(seen.map((x) => `${x.method} ${x.path} ${x.status}`)).toEqual(["POST /login 200", "POST /auth/session/refresh 200", "GET /api/data 200"]);
      for (const exchange of seen) {
        expect(exchange.response["st-refresh-token"]).toBeUndefined();
        expect(exchange.request.authorization).toBeUndefined();
      }
      expect(seen.filter((x) => x.response["st-access-token"] !== undefined).map((x) => x.path)).toEqual(["/login", "/auth/session/refresh"]);

      // Sign-out clears the exposed token too.
      await tab.evaluate(() => (globalThis as unknown as W).supertokensSession.signOut());
      expect(await getAccessToken()).toBeUndefined();
      expect((await documentCookie()).split("; ").filter((c) => c.startsWith("st-access-token="))).toEqual([]);
    });

    it("without it (the default), getAccessToken() is undefined in cookie mode and no response carries st-access-token", async () => {
      const tab = await open(await start(STEADY), "cookie");
      expect(await tab.evaluate(() => (globalThis as unknown as W).login("user-1"))).toBe(200);
      expect(await tab.evaluate(() => (globalThis as unknown as W).supertokensSession.getAccessToken())).toBeUndefined();
      expect(await tab.evaluate(() => (globalThis as unknown as W).supertokensSession.attemptRefreshingSession())).toBe(true);
      expect(await tab.evaluate(() => (globalThis as unknown as W).supertokensSession.getAccessToken())).toBeUndefined();
      for (const exchange of await recorded()) {
        expect(exchange.response["st-access-token"]).toBeUndefined();
        expect(exchange.response["st-refresh-token"]).toBeUndefined();
      }
    });
  });
});
