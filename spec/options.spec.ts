import express from "express";
import { memoryStore, mysqlStore, sessionMiddleware, verifySession, type SessionMiddlewareOptions } from "../lib";
import { parseDuration } from "../lib/duration";
import { request } from "./helpers";

describe("sessionMiddleware options", () => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  it.each<[string, unknown, RegExp]>([
    ["accessTokenTtl", -5, /^latchkey: option accessTokenTtl must be seconds as a positive number or a string such as "500ms", "15m" or "30d" \(got -5\)\.$/],
    ["accessTokenTtl", "15 minutes", /option accessTokenTtl must be .* \(got "15 minutes"\)/],
    ["refreshTokenTtl", 0, /option refreshTokenTtl must be .* \(got 0\)/],
    ["absoluteTtl", Number.NaN, /option absoluteTtl must be .* \(got NaN\)/],
    ["refreshGrace", "10x", /option refreshGrace must be .* \(got "10x"\)/],
    ["refreshGrace", "10m", /option refreshGrace must be at most 5 minutes \(got 600s\)/],
    ["apiBasePath", "auth", /option apiBasePath must be a path from the site root such as "\/auth" \(got "auth"\)/],
    ["apiBasePath", "/auth?x", /option apiBasePath must be a path/],
    ["algorithm", "HS256", /option algorithm must be one of "ES256", "RS256" \(got "HS256"\)/],
    ["algorithm", "none", /option algorithm must be one of/],
    ["cookieSameSite", "None", /option cookieSameSite must be one of "lax", "strict", "none" \(got "None"\)/],
    ["cookieSecure", "yes", /option cookieSecure must be one of true, false, "auto" \(got "yes"\)/],
    ["cookieDomain", "https://example.com", /option cookieDomain must be a host name/],
    ["issuer", "", /option issuer must be a non-empty string/],
    ["onRevoked", "not a function", /option onRevoked must be a function \(got "not a function"\)/],
    ["logger", { info() {} }, /option logger must have warn\(\) and error\(\) methods/],
    ["accessTokenTtl", "500ms", /^latchkey: option accessTokenTtl must be at least 1s \(got 500ms\): a JWT's exp is in whole seconds, and no token outlives its lifetime\.$/],
    ["revocationListSize", 0, /^latchkey: option revocationListSize must be a whole number from 1 to 1000000 \(got 0\)\.$/],
    ["maxSessionsPerUser", 0, /^latchkey: option maxSessionsPerUser must be a whole number from 1 to 1000000 \(got 0\)\.$/],
    ["maxSessionsPerUser", 2.5, /option maxSessionsPerUser must be a whole number/],
    ["sessionProperty", "my-session", /^latchkey: option sessionProperty must be a plain property name such as "latchkey" \(got "my-session"\)\.$/],
    ["sessionProperty", "constructor", /option sessionProperty must be a plain property name/],
    ["invalidClaimStatusCode", 401, /^latchkey: option invalidClaimStatusCode must be a 4xx status other than 401 \(got 401\): the frontend SDK refreshes the session on 401/],
    ["invalidClaimStatusCode", 500, /option invalidClaimStatusCode must be a 4xx status other than 401 \(got 500\)/],
    ["debug", "yes", /^latchkey: option debug must be true or false \(got "yes"\)\.$/],
    ["exposeAccessTokenToFrontendInCookieBasedAuth", 1, /option exposeAccessTokenToFrontendInCookieBasedAuth must be true or false \(got 1\)/],
    ["claims", [{ key: "x" }], /^latchkey: option claims must be an array of claims such as new BooleanClaim\(\{ key, fetchValue \}\)\.$/],
    ["globalClaimValidators", [{}], /option globalClaimValidators must be an array of claim validators/],
    ["onRefused", 42, /option onRefused must be a function \(got 42\)/],
    ["trustedOrigins", ["http://*.example.com"], /^latchkey: option trustedOrigins lists "http:\/\/\*\.example\.com", but a string matches one origin exactly and "\*" matches nothing\. Use a RegExp/],
    ["trustedOrigins", ["https://user:pw@app.example.com"], /option trustedOrigins must list origins \(scheme:\/\/host\[:port\], no path\)/],
    ["trustedOrigins", [42], /option trustedOrigins must list origins/],
    ["trustedOrigins", "https://app.example.com", /option trustedOrigins must be an array of origins .*, RegExps, or a function/],
    // TO1: an unanchored pattern trusts any origin that merely contains a trusted one.
    ["trustedOrigins", [/https:\/\/app\.example\.com/], /^latchkey: option trustedOrigins lists the RegExp \/https:\\\/\\\/app\\\.example\\\.com\/, which is not anchored: .* Anchor every alternative with \^ and \$/],
    ["trustedOrigins", [/^https:\/\/app\.example\.com/], /which is not anchored/],
    ["trustedOrigins", [/https:\/\/app\.example\.com$/], /which is not anchored/],
    ["trustedOrigins", [/^https:\/\/a\.example\.com$|https:\/\/b\.example\.com/], /which is not anchored/],
    ["trustedOrigins", [/^https:\/\/app\.example\.com\$/], /which is not anchored/],
  ])("refuses %s = %p with a TypeError that names it", (name, value, message) => {
    const options = { store: memoryStore(), [name]: value } as SessionMiddlewareOptions;
    expect(() => sessionMiddleware(options)).toThrow(TypeError);
    expect(() => sessionMiddleware(options)).toThrow(message);
  });

  it("accepts trustedOrigins RegExps anchored in every alternative (TO1)", () => {
    for (const pattern of [/^https:\/\/[a-z0-9-]+\.example\.com$/, /^https:\/\/a\.example\.com$|^https:\/\/b\.example\.com$/, /^(?:https:\/\/a|http:\/\/b)\.example\.com$/, /^https:\/\/x[|$]\.example\.com$/]) {
      expect(() => sessionMiddleware({ store: memoryStore(), trustedOrigins: [pattern] })).not.toThrow();
    }
  });

  it("suggests the option a typo meant", () => {
    expect(() => sessionMiddleware({ accessTokenTTL: "5m" } as SessionMiddlewareOptions)).toThrow(
      "latchkey: unknown option accessTokenTTL. Did you mean accessTokenTtl?",
    );
  });

  it("refuses inconsistent lifetimes", () => {
    expect(() => sessionMiddleware({ store: memoryStore(), accessTokenTtl: "1d", refreshTokenTtl: "1d" })).toThrow(
      "latchkey: option accessTokenTtl (86400s) must be shorter than refreshTokenTtl (86400s).",
    );
    expect(() => sessionMiddleware({ store: memoryStore(), refreshTokenTtl: "200d" })).toThrow(
      "latchkey: option refreshTokenTtl (17280000s) must not exceed absoluteTtl (15552000s).",
    );
  });

  it("refuses SameSite=None without Secure, and insecure cookies in production", () => {
    expect(() => sessionMiddleware({ store: memoryStore(), cookieSameSite: "none" })).toThrow(/cookieSameSite "none" needs cookieSecure: true/);
    expect(() => sessionMiddleware({ store: memoryStore(), cookieSameSite: "none", cookieSecure: true })).not.toThrow();
    process.env.NODE_ENV = "production";
    expect(() => sessionMiddleware({ store: memoryStore(), cookieSecure: false })).toThrow(/cookieSecure is false but NODE_ENV=production/);
  });

  it("catches app.use(sessionMiddleware) and verifySession without parentheses", async () => {
    const app = express();
    app.use(sessionMiddleware as unknown as express.RequestHandler);
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ message: error.message });
    });
    const res = await request(app).get("/").expect(500);
    expect(res.body.message).toBe(
      "latchkey: sessionMiddleware is a factory. Write app.use(sessionMiddleware()), not app.use(sessionMiddleware).",
    );
    expect(() => verifySession({ headers: {}, method: "GET" } as never)).toThrow(/verifySession is a factory/);
  });

  it("reports a bad store URI with the password redacted", () => {
    expect(() => sessionMiddleware({ store: "postgres://app:hunter2@db:5432/app" })).toThrow(
      'latchkey: the store URI must start with mysql:// (got "postgres://app:***@db:5432/app").',
    );
    expect(() => mysqlStore("mysql://app:hunter2@db:3306")).toThrow(/names no database \(got "mysql:\/\/app:\*\*\*@db:3306"\)/);
    expect(() => mysqlStore("mysql://app:hunter2@db:3306")).not.toThrow(/hunter2/);
    expect(() => mysqlStore("mysql://x", { tablePrefix: "bad-prefix" })).toThrow(/option tablePrefix must be up to 40 letters/);
  });

  it("reports a bad LATCHKEY_DATABASE_URL with the password redacted", () => {
    process.env.LATCHKEY_DATABASE_URL = "mysql//root:s3cret@localhost/db";
    let message = "";
    try {
      sessionMiddleware();
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^latchkey: the MySQL URI is not a valid URL/);
    expect(message).not.toMatch(/s3cret/);
  });
});

describe("store selection", () => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  it("throws at start-up in production when no store is configured", () => {
    delete process.env.LATCHKEY_DATABASE_URL;
    process.env.NODE_ENV = "production";
    expect(() => sessionMiddleware()).toThrow(
      "latchkey: no session store is configured and NODE_ENV=production. Set LATCHKEY_DATABASE_URL=mysql://user:password@host:3306/database, or pass the store option.",
    );
  });

  it("uses LATCHKEY_DATABASE_URL when set (an unreachable one answers logins with 503, not a memory session)", async () => {
    process.env.LATCHKEY_DATABASE_URL = "mysql://root@127.0.0.1:1/test";
    const app = express();
    app.use(sessionMiddleware({ logger: false }));
    app.post("/login", async (_req, res, next) => {
      try {
        await res.createSession("user-1");
        res.json({});
      } catch (error) {
        next(error);
      }
    });
    const res = await request(app).post("/login").expect(503);
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("falls back to the memory store outside production with one warning", async () => {
    delete process.env.LATCHKEY_DATABASE_URL;
    delete process.env.NODE_ENV;
    jest.resetModules();
    const fresh = jest.requireActual<typeof import("../lib")>("../lib");
    const warnings: string[] = [];
    const logger = { warn: (message: string) => warnings.push(message), error() {} };
    fresh.sessionMiddleware({ logger });
    fresh.sessionMiddleware({ logger });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/sessions live in this process's memory/);
  });
});

describe("durations", () => {
  it.each<[unknown, number | undefined]>([
    [900, 900_000],
    [0.5, 500],
    ["500ms", 500],
    ["15m", 900_000],
    ["30d", 2_592_000_000],
    ["2h", 7_200_000],
    ["1w", 604_800_000],
    ["1.5s", 1500],
    ["0s", undefined],
    [-1, undefined],
    [Infinity, undefined],
    ["15", undefined],
    ["m", undefined],
    [null, undefined],
  ])("parses %p as %p ms", (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });
});
