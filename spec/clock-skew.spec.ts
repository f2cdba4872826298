import type { Logger } from "../lib";
import { createApp, login, refreshCookie, request, StoreFactory, tokensOf, type TestApp } from "./helpers";

/**
 * Issue 19, CS1: the refresh grace window compares `rotated_at`, stamped by the instance
 * that rotated, with the time on the instance that is asked next. On MySQL both come from
 * the database's clock, so instances whose clocks are set apart still agree on the window;
 * an instance whose clock is beyond the tolerated 5 s from the database's says so, once.
 */
const REFRESH = "/auth/session/refresh";

describe.each([6_000, 15_000])("two instances on one MySQL schema whose clocks are %d ms apart", (skew) => {
  const stores = new StoreFactory("mysql");
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const { sessions } of apps.splice(0)) await sessions.close();
  });
  afterAll(() => stores.cleanup());

  function instances() {
    const [storeA, storeB] = stores.pair();
    const warnings = { a: [] as string[], b: [] as string[] };
    const logger = (into: string[]): Logger => ({ warn: (message) => void into.push(message), error: () => {}, debug: () => {} });
    const a = createApp({ store: storeA, refreshGrace: "2s", logger: logger(warnings.a) });
    const b = createApp({ store: storeB, refreshGrace: "2s", clock: () => Date.now() + skew, logger: logger(warnings.b) });
    apps.push(a, b);
    return { a, b, warnings };
  }
  const refresh = (fixture: TestApp, token: string) => request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token));

  it("a refresh on A, then the same old token on B within the grace window: the same successor, not theft", async () => {
    const { a, b } = instances();
    await b.sessions.ready();
    const { refresh: token } = await login(a.app);
    const first = tokensOf(await refresh(a, token).expect(200)).refresh;
    const again = await refresh(b, token);
    expect([again.status, tokensOf(again).refresh]).toEqual([200, first]);
    expect([a.events.theft, b.events.theft]).toEqual([[], []]);
    // ...and the other way round: B rotates, A is asked with B's old token.
    const second = tokensOf(await refresh(b, first).expect(200)).refresh;
    const back = await refresh(a, first);
    expect([back.status, tokensOf(back).refresh]).toEqual([200, second]);
  });

  it("past the grace window by the database's clock, the old token is theft on the other instance", async () => {
    const { a, b } = instances();
    const { refresh: token } = await login(a.app);
    await refresh(a, token).expect(200);
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    const late = await refresh(b, token).expect(401);
    expect(late.body).toEqual({ message: "token theft detected" });
    expect(b.events.theft).toHaveLength(1);
  });

  it("warns once on the instance whose clock is off, naming it and by how much; not on the other", async () => {
    const { a, b, warnings } = instances();
    await Promise.all([a.sessions.ready(), b.sessions.ready()]);
    const seconds = Math.round(skew / 1000);
    expect(warnings.b.filter((line) => line.includes("clock"))).toEqual([
      expect.stringContaining(`is ${seconds} s ahead of the database's, beyond the 5 s the instances' clocks may differ`),
    ]);
    expect(warnings.b[0]).toContain(`pid ${process.pid}`);
    expect(warnings.a.filter((line) => line.includes("clock"))).toEqual([]);
  });
});
