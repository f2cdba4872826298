import type { TheftEvent } from "../lib";
import { createApp, describeEachStore, fakeClock, login, refreshCookie, request, tokensOf, type TestApp } from "./helpers";

const REFRESH = "/auth/session/refresh";
const VICTIM = { ip: "203.0.113.7", ua: "Firefox/140 (victim)" };
const THIEF = { ip: "198.51.100.9", ua: "curl/8.5 (thief)" };

// Issue 22 item 5: a theft could not be told from a client bug. The log line names the user,
// the presenter's IP and the time; the event adds the legitimate holder's last IP and user
// agent, and when the presented token was replaced.
describeEachStore("theft forensics", (stores) => {
  let clock: ReturnType<typeof fakeClock>;
  let fixture: TestApp;
  let warnings: string[];
  // The MySQL store stamps rotations on the database's clock, which runs on in real time while
  // the spec's clock stands still: a few milliseconds apart there, exact on the memory store.
  const stamped = (ms: number): unknown => (stores.kind === "mysql" ? expect.closeTo(ms, -3) : ms);

  beforeEach(() => {
    clock = fakeClock();
    warnings = [];
    // A text logger: the line must say it all (spec/structured-logs.spec.ts checks the record's fields).
    fixture = createApp({ store: stores.create(), clock: clock.now, logger: { warn: (message) => void warnings.push(message), error: () => {} } });
    fixture.app.set("trust proxy", "loopback");
  });

  const refreshAs = (token: string, who: { ip: string; ua: string }) =>
    request(fixture.app).post(REFRESH).set("Cookie", refreshCookie(token)).set("X-Forwarded-For", who.ip).set("User-Agent", who.ua);

  it("the previous token replayed: presenter, holder, when it was replaced, in the event and the log", async () => {
    const victim = await login(fixture.app, "victim");
    clock.advance(1000);
    await refreshAs(victim.refresh, VICTIM).expect(200); // the holder refreshes: the login's token is now the previous one
    clock.advance(90_000);
    await refreshAs(victim.refresh, THIEF).expect(401, { message: "token theft detected" });

    const event: TheftEvent = {
      handle: victim.handle,
      userId: "victim",
      ip: expect.any(String),
      userAgent: null,
      clientIp: THIEF.ip,
      clientUserAgent: THIEF.ua,
      at: clock.now(),
      holderIp: VICTIM.ip,
      holderUserAgent: VICTIM.ua,
      supersededAt: stamped(clock.now() - 90_000) as number,
      replayed: "previous",
    };
    expect(fixture.events.theft).toEqual([event]);
    expect(warnings.filter((line) => line.includes("reuse detected"))).toEqual([
      `refresh token reuse detected (the previous refresh token was reused after the grace window): session ${victim.handle} of user "victim" revoked; ` +
        "the previous token was presented from 198.51.100.9 at 2026-11-28T12:01:31.000Z, 90 s after it was replaced; the holder last refreshed from 203.0.113.7",
    ]);
  });

  it("an older token replayed: says it was replaced at least that long ago", async () => {
    const victim = await login(fixture.app, "victim");
    let tokens = { access: victim.access, refresh: victim.refresh };
    for (let i = 0; i < 3; i++) {
      clock.advance(20_000);
      tokens = tokensOf(await refreshAs(tokens.refresh, VICTIM).expect(200));
    }
    clock.advance(5000);
    await refreshAs(victim.refresh, THIEF).expect(401);

    expect(fixture.events.theft).toEqual([
      expect.objectContaining({ clientIp: THIEF.ip, holderIp: VICTIM.ip, holderUserAgent: VICTIM.ua, supersededAt: stamped(clock.now() - 5000), replayed: "older" }),
    ]);
    const [line] = warnings.filter((text) => text.includes("reuse detected"));
    expect(line).toContain("the older token was presented from 198.51.100.9 at 2026-11-28T12:01:05.000Z, at least 5 s after it was replaced");
  });
});
