import express from "express";
import { errorHandler, PrimitiveArrayClaim, PrimitiveClaim, sessionMiddleware, verifySession, type SessionMiddleware, type SessionStore } from "../lib";
import { accessCookie, countingStore, describeEachStore, fakeClock, refreshCookie, request, tokensOf } from "./helpers";

/**
 * Issue 19, CL1 and I1: when a claim value counts as fetched, and what a fetch that finds
 * no value costs. A claim value is stamped with when its fetch began, so an invalidateClaim
 * landing while fetchValue runs wins; an absent value is believed for the claim's max age.
 */

const REFRESH = "/auth/session/refresh";

/** A roles directory whose fetchValue reads at once and answers only when released. */
function gatedRoles() {
  const directory = { roles: ["admin"] };
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  let started: (() => void) | undefined;
  const Roles = new PrimitiveArrayClaim<string>({
    key: "st-role",
    defaultMaxAgeInSeconds: 300,
    fetchValue: async () => {
      const value = [...directory.roles]; // read before the change below lands
      started?.();
      if (gate) await gate;
      return value;
    },
  });
  return {
    directory,
    Roles,
    /** Holds the next fetches until `release()`; resolves once one has read its value. */
    hold(): Promise<void> {
      gate = new Promise((resolve) => (release = resolve));
      return new Promise((resolve) => (started = resolve));
    },
    release(): void {
      gate = undefined;
      started = undefined;
      release?.();
    },
  };
}

function claimsApp(options: Parameters<typeof sessionMiddleware>[0], validators: Parameters<typeof verifySession>[0]) {
  const sessions = sessionMiddleware({ logger: false, ...options });
  const app = express();
  app.use(express.json());
  app.use(sessions);
  app.post("/login", async (req, res, next) => {
    try {
      const session = await res.createSession(req.body.userId);
      res.json({ handle: session.handle });
    } catch (error) {
      next(error);
    }
  });
  app.get("/api/admin", verifySession(validators), (_req, res) => void res.json({ ok: true }));
  app.use(errorHandler());
  return { app, sessions };
}

describeEachStore("a claim fetch racing invalidateClaim", (stores) => {
  const opened: SessionMiddleware[] = [];
  afterEach(async () => {
    for (const sessions of opened.splice(0)) await sessions.close();
  });

  function setup() {
    const clock = fakeClock();
    const world = gatedRoles();
    const fixture = claimsApp(
      { store: stores.create(), clock: clock.now, claims: [world.Roles] },
      { overrideGlobalClaimValidators: (globals) => [...globals, world.Roles.validators.includes("admin")] },
    );
    opened.push(fixture.sessions);
    /** The role is taken away while a fetch that read it is still running. */
    async function revokeRoleDuring(fetchStarted: Promise<void>) {
      await fetchStarted;
      world.directory.roles = [];
      clock.advance(1000);
      await fixture.sessions.invalidateClaim("u1", world.Roles);
      clock.advance(1000);
      world.release();
    }
    const admin = (access: string) => request(fixture.app).get("/api/admin").set("Cookie", accessCookie(access));
    return { clock, world, fixture, revokeRoleDuring, admin };
  }

  it("at login: the old value is not accepted, before and after a refresh", async () => {
    const { world, fixture, revokeRoleDuring, admin, clock } = setup();
    await fixture.sessions.ready();
    const fetchStarted = world.hold();
    const pending = request(fixture.app).post("/login").send({ userId: "u1" }).then((res) => res);
    await revokeRoleDuring(fetchStarted);
    const tokens = tokensOf(await pending);

    const res = await admin(tokens.access).expect(403);
    expect(res.body.claimValidationErrors).toEqual([{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: [] } }]);
    clock.advance(1000);
    const refreshed = tokensOf(await request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(tokens.refresh)).expect(200));
    await admin(refreshed.access).expect(403);
  });

  it("on a per-request refetch: the next request fetches again", async () => {
    const { world, fixture, revokeRoleDuring, admin, clock } = setup();
    const login = tokensOf(await request(fixture.app).post("/login").send({ userId: "u1" }).expect(200));
    clock.advance(301_000); // past the claim's max age: /api/admin fetches it again
    const fetchStarted = world.hold();
    const pending = admin(login.access).then((res) => res);
    await revokeRoleDuring(fetchStarted);
    const racing = await pending;
    expect(racing.status).toBe(200); // it read the role before it was taken away
    const res = await admin(tokensOf(racing).access || login.access).expect(403);
    expect(res.body.claimValidationErrors).toEqual([{ id: "st-role", reason: { message: "wrong value", expectedToInclude: "admin", actualValue: [] } }]);
  });

  it("on a refresh that fetches the missing claim: the next request fetches again", async () => {
    const { world, fixture, revokeRoleDuring, admin, clock } = setup();
    const login = tokensOf(await request(fixture.app).post("/login").send({ userId: "u1" }).expect(200));
    await fixture.sessions.invalidateClaim("u1", world.Roles); // removes it from the stored payload
    clock.advance(1000);
    const fetchStarted = world.hold();
    const pending = request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(login.refresh)).then((res) => res);
    await revokeRoleDuring(fetchStarted);
    const refreshed = await pending;
    expect(refreshed.status).toBe(200);
    await admin(tokensOf(refreshed).access).expect(403);
  });
});

describeEachStore("a claim whose fetchValue finds no value", (stores) => {
  const opened: SessionMiddleware[] = [];
  afterEach(async () => {
    for (const sessions of opened.splice(0)) await sessions.close();
  });

  it("is fetched once per max age, not on every request: 20 requests, no further fetch, no store call", async () => {
    const clock = fakeClock();
    let fetches = 0;
    const Plan = new PrimitiveClaim<string>({
      key: "plan",
      defaultMaxAgeInSeconds: 300,
      fetchValue: () => {
        fetches++;
        return undefined;
      },
    });
    const counted = countingStore(stores.create() as SessionStore);
    const fixture = claimsApp({ store: counted.store, clock: clock.now, claims: [Plan] }, { overrideGlobalClaimValidators: () => [Plan.validators.hasValue("pro")] });
    opened.push(fixture.sessions);
    const { access } = tokensOf(await request(fixture.app).post("/login").send({ userId: "u1" }).expect(200));
    expect(fetches).toBe(1); // the login's

    await request(fixture.app).get("/api/admin").set("Cookie", accessCookie(access)).expect(403); // the validator looks once more
    expect(fetches).toBe(2);
    const calls = counted.calls.length;
    for (let i = 0; i < 20; i++) {
      const res = await request(fixture.app).get("/api/admin").set("Cookie", accessCookie(access)).expect(403);
      expect(res.body.claimValidationErrors).toEqual([{ id: "plan", reason: { message: "value does not exist", expectedValue: "pro" } }]);
      expect(res.headers["set-cookie"]).toBeUndefined();
    }
    expect(fetches).toBe(2);
    expect(counted.calls.slice(calls).filter((call) => call !== "listClaimInvalidationsSince")).toEqual([]);

    clock.advance(301_000); // the absence is as old as the claim's max age: fetched again, once
    for (let i = 0; i < 3; i++) await request(fixture.app).get("/api/admin").set("Cookie", accessCookie(access)).expect(403);
    expect(fetches).toBe(3);
  });

  it("is fetched again at once after invalidateClaim", async () => {
    const clock = fakeClock();
    let plan: string | undefined;
    let fetches = 0;
    const Plan = new PrimitiveClaim<string>({
      key: "plan",
      defaultMaxAgeInSeconds: 300,
      fetchValue: () => {
        fetches++;
        return plan;
      },
    });
    const fixture = claimsApp({ store: stores.create(), clock: clock.now, claims: [Plan] }, { overrideGlobalClaimValidators: () => [Plan.validators.hasValue("pro")] });
    opened.push(fixture.sessions);
    const { access } = tokensOf(await request(fixture.app).post("/login").send({ userId: "u1" }).expect(200));
    for (let i = 0; i < 3; i++) await request(fixture.app).get("/api/admin").set("Cookie", accessCookie(access)).expect(403);
    plan = "pro";
    clock.advance(1000);
    await fixture.sessions.invalidateClaim("u1", Plan);
    await request(fixture.app).get("/api/admin").set("Cookie", accessCookie(access)).expect(200);
    expect(fetches).toBe(3); // login, the first request, and the one after the invalidation
  });
});
