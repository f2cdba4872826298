import { metrics as otel } from "@opentelemetry/api";
import { MeterProvider, MetricReader, type MetricData } from "@opentelemetry/sdk-metrics";
import express from "express";
import { mysqlStore } from "../lib";
import { accessCookie, createApp, DATABASE_URL, fakeClock, login, refreshCookie, request, StoreFactory, tokensOf } from "./helpers";
import { tcpProxy, type TcpProxy } from "./support/tcp-proxy";

// Issue 22 item 3: an outage could not be counted. latchkey records through
// @opentelemetry/api; the app registers a meter provider, here one whose reader the spec collects.
class CollectingReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  /** Every data point of one instrument, as [attributes, value]. */
  async read(): Promise<(name: string) => [Record<string, unknown>, unknown][]> {
    const { resourceMetrics, errors } = await this.collect();
    expect(errors).toEqual([]);
    const all: MetricData[] = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
    return (name) =>
      all
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) => (metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]).map((point): [Record<string, unknown>, unknown] => [point.attributes, point.value]));
  }
}

describe("metrics through @opentelemetry/api", () => {
  const stores = new StoreFactory("mysql");
  const url = new URL(DATABASE_URL);
  let proxy: TcpProxy;
  let reader: CollectingReader;

  beforeAll(() => {
    reader = new CollectingReader();
    otel.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  });
  afterAll(async () => {
    otel.disable();
    await stores.cleanup();
  });
  beforeEach(async () => {
    proxy = await tcpProxy(url.hostname, Number(url.port || 3306));
  });
  afterEach(() => proxy.close());

  it("counts logins, refreshes, refusals by code and reason, thefts, store errors by operation, store latency and the poll lag", async () => {
    const clock = fakeClock();
    const store = mysqlStore(
      {
        host: "127.0.0.1",
        port: proxy.port,
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.slice(1),
        connectTimeout: 1000,
      },
      { tablePrefix: stores.newPrefix(), queryTimeoutMs: 800 },
    );
    const { app, sessions } = createApp({ store, clock: clock.now, cleanupInterval: false });
    const a = await login(app, "user-a");
    const b = await login(app, "user-b");
    await login(app, "user-c");
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(a.refresh)).expect(200);
    const b1 = tokensOf(await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(b.refresh)).expect(200));
    await request(app).get("/api/me").expect(401);
    clock.advance(60_000);
    await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(a.refresh)).expect(401, { message: "token theft detected" });

    let metric = await reader.read();
    const lagWhileUp = metric("latchkey.revocation.poll_lag");
    expect(lagWhileUp).toEqual([[{}, expect.any(Number)]]);
    expect(lagWhileUp[0]![1]).toBeLessThan(2000 + 1000);

    await proxy.refuse();
    for (let i = 0; i < 2; i++) await request(app).post("/auth/session/refresh").set("Cookie", refreshCookie(b1.refresh)).expect(503);
    await request(app).get("/api/me").set("Cookie", accessCookie(b1.access)).expect(200); // verification needs no store
    await new Promise((resolve) => setTimeout(resolve, 3000));

    metric = await reader.read();
    expect(metric("latchkey.logins")).toEqual([[{}, 3]]);
    expect(metric("latchkey.refreshes")).toEqual([[{}, 2]]);
    expect(metric("latchkey.thefts")).toEqual([[{}, 1]]);
    expect(metric("latchkey.refusals")).toEqual(
      expect.arrayContaining([
        [{ code: "UNAUTHORISED", reason: "no access token", kind: "access" }, 1],
        [{ code: "TOKEN_THEFT_DETECTED", reason: "the previous refresh token was reused after the grace window", kind: "refresh" }, 1],
        [{ code: "STORE_UNAVAILABLE", reason: "the session store failed", kind: "refresh" }, 2],
      ]),
    );
    expect(metric("latchkey.refusals")).toHaveLength(3);
    // The two refreshes' UPDATEs, and the background poll failing on its own meanwhile.
    const errors = new Map(metric("latchkey.store.errors").map(([attributes, value]) => [attributes.operation, value]));
    expect(errors.get("updateSession")).toBe(2);
    for (const operation of errors.keys()) expect(operation).toMatch(/^(updateSession|listRevokedSince|listClaimInvalidationsSince|listSigningKeys)$/);
    const durations = new Map(metric("latchkey.store.duration").map(([attributes, value]) => [`${attributes.operation} ${attributes.outcome}`, value as { count: number; sum: number }]));
    expect(durations.get("createSession ok")?.count).toBe(3);
    expect(durations.get("updateSession ok")?.count).toBe(3); // two rotations and the theft's revocation
    expect(durations.get("updateSession error")?.count).toBe(2);
    expect(durations.get("createSession ok")!.sum).toBeGreaterThan(0);
    // No successful poll since the outage began: the lag alert fires.
    expect(metric("latchkey.revocation.poll_lag")[0]![1]).toBeGreaterThanOrEqual(3000);

    await proxy.pass();
    await sessions.close();
  });
});

describe("without @opentelemetry/api installed", () => {
  it("latchkey loads and serves a login and a refusal (it is required lazily, inside a try)", async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock("@opentelemetry/api", () => {
        throw new Error("Cannot find module '@opentelemetry/api'");
      });
      const latchkey = (await import("../lib")) as typeof import("../lib");
      const sessions = latchkey.sessionMiddleware({ store: latchkey.memoryStore(), logger: false });
      const app = express();
      app.use(sessions);
      app.post("/login", async (_req, res) => {
        await res.createSession("user-1");
        res.json({ ok: true });
      });
      await request(app).post("/login").expect(200, { ok: true });
      await request(app).post("/auth/session/refresh").expect(401);
      await sessions.close();
    });
  });
});
