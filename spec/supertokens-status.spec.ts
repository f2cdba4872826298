import { main } from "../lib/cli";
import { DATABASE_URL, request } from "./helpers";
import { cookieFlow, flows, snapshot } from "./support/supertokens-core";
import { coreSuite, refreshWithCookie } from "./support/supertokens-suite";

// DESIGN §7.3: `npx latchkey supertokens status`, run through the CLI's entry point in-process
// (the spawned dist/ build is cli.spec.ts's business), on real tables.
const suite = coreSuite();

async function status(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(["supertokens", "status", "--table-prefix", suite.lk, ...args], {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    env: { LATCHKEY_DATABASE_URL: DATABASE_URL },
  });
  return { code, out, err };
}

describe("npx latchkey supertokens status", () => {
  it("counts the core sessions still live and the live sessions moved to latchkey, reading only", async () => {
    // The CLI counts at the real time: the app's clock and the rows are set around it.
    const now = Date.now();
    const live = { expires_at: now + 100 * 86_400_000 };
    const app = suite.app({}, now);
    await app.sessions.ready();
    await suite.fresh(cookieFlow.loginRow, live);
    await suite.fresh(flows.headerMode.steps[0].row, live);
    // Expired in the core: not counted (and not migratable).
    await suite.fresh(snapshot.session_info[1], { expires_at: now - 1 });
    // A latchkey-born session is not counted as moved.
    await request(app.app).post("/login").send({ userId: "native" }).expect(200);

    const before = await status("--core-prefix", suite.core.prefix, "--json");
    expect(before).toEqual({ code: 0, out: `${JSON.stringify({ coreLive: 2, migrated: 0 }, null, 2)}\n`, err: "" });

    const migrated = await refreshWithCookie(app, cookieFlow.RT0).expect(200);
    app.clock.now += 60_000;
    // A rotation after the move keeps it countable (the lineage survives).
    const successor = /sRefreshToken=([^;]+)/.exec(String(migrated.headers["set-cookie"]))?.[1] ?? "";
    await request(app.app).post("/auth/session/refresh").set("Cookie", `sRefreshToken=${successor}`).expect(200);

    const after = await status("--core-prefix", suite.core.prefix);
    expect(after.code).toBe(0);
    expect(after.out).toBe(
      "SuperTokens core sessions still live: 1\nSessions moved to latchkey (live): 1\n" +
        "Keep migrateFromSuperTokens until no SuperTokens session is live (the core's refresh_token_validity after cutover, 100 days by default).\n",
    );
  });

  it("refuses a bad --core-prefix with exit 2, and names a missing core table with exit 1", async () => {
    const bad = await status("--core-prefix", "x`; DROP TABLE y");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--core-prefix must be up to 40 letters/);
    const missing = await status("--core-prefix", "nothere_");
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nothere_session_info does not exist/);
  });
});
