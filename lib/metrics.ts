/**
 * Counters and timings through `@opentelemetry/api`, an optional peer dependency: loaded
 * lazily, and when it is not installed every call here does nothing. With it installed but
 * no meter provider registered, the API's global no-op provider makes them free as well.
 *
 * Instruments are bound to the provider registered *now*, re-checked on each recording: the
 * metrics API has no proxy provider, so a meter taken before the app registers its SDK would
 * stay a no-op forever.
 */

// The few shapes of @opentelemetry/api used here, declared locally so that latchkey's
// published types never name a package the app may not have installed.
type Attributes = Record<string, string | number | boolean>;
interface Counter {
  add(value: number, attributes?: Attributes): void;
}
interface Histogram {
  record(value: number, attributes?: Attributes): void;
}
interface ObservableResult {
  observe(value: number, attributes?: Attributes): void;
}
interface ObservableGauge {
  addCallback(callback: (result: ObservableResult) => void): void;
}
interface Meter {
  createCounter(name: string, options?: { description?: string; unit?: string }): Counter;
  createHistogram(name: string, options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } }): Histogram;
  createObservableGauge(name: string, options?: { description?: string; unit?: string }): ObservableGauge;
}
interface MetricsApi {
  metrics: { getMeterProvider(): { getMeter(name: string, version?: string): Meter } };
}

interface Instruments {
  provider: object;
  logins: Counter;
  refreshes: Counter;
  refusals: Counter;
  thefts: Counter;
  storeErrors: Counter;
  storeDuration: Histogram;
}

/** Milliseconds; store calls are mostly single-digit, an outage runs into the query timeout. */
const DURATION_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000];

let api: MetricsApi | null | undefined;
let instruments: Instruments | undefined;
/** What the poll-lag gauge reports: one source per running manager (normally one a process). */
const lagSources = new Set<() => number | undefined>();

function loadApi(): MetricsApi | null {
  if (api === undefined) {
    try {
      api = require("@opentelemetry/api") as MetricsApi;
    } catch {
      api = null; // not installed: metrics are off
    }
  }
  return api;
}

function current(): Instruments | undefined {
  const otel = loadApi();
  if (!otel) return undefined;
  const provider = otel.metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter("latchkey");
  instruments = {
    provider,
    logins: meter.createCounter("latchkey.logins", { description: "Sessions created (logins)." }),
    refreshes: meter.createCounter("latchkey.refreshes", { description: "Refresh tokens rotated or re-issued." }),
    refusals: meter.createCounter("latchkey.refusals", { description: "Requests refused, by code and reason." }),
    thefts: meter.createCounter("latchkey.thefts", { description: "Refresh-token reuse detected (sessions revoked as stolen)." }),
    storeErrors: meter.createCounter("latchkey.store.errors", { description: "Failed store calls, by operation." }),
    storeDuration: meter.createHistogram("latchkey.store.duration", {
      description: "Duration of store calls, by operation and outcome.",
      unit: "ms",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
  };
  meter
    .createObservableGauge("latchkey.revocation.poll_lag", {
      description: "Milliseconds since the last successful revocation poll (the worst of this process's managers).",
      unit: "ms",
    })
    .addCallback((result) => {
      let worst: number | undefined;
      for (const source of lagSources) {
        const lag = source();
        if (lag !== undefined && (worst === undefined || lag > worst)) worst = lag;
      }
      if (worst !== undefined) result.observe(worst);
    });
  return instruments;
}

/** Reason texts carry numbers now and then ("issued 7 s in the future"): keep the attribute's values few. */
function reasonAttribute(reason: string): string {
  return reason.replace(/\d+/g, "N").slice(0, 100);
}

/** The metrics latchkey records; each a no-op without `@opentelemetry/api` or a registered provider. */
export const metrics = {
  /** Counts what an audit event stands for: a login, a refresh, a theft (refusals are counted with their code). */
  event(hook: string): void {
    if (hook === "onSessionCreated") current()?.logins.add(1);
    else if (hook === "onRefreshed") current()?.refreshes.add(1);
    else if (hook === "onTheftDetected") current()?.thefts.add(1);
  },
  refusal(code: string, reason: string, kind: string): void {
    current()?.refusals.add(1, { code, reason: reasonAttribute(reason), kind });
  },
  storeCall(operation: string, durationMs: number, failed: boolean): void {
    const instruments = current();
    if (!instruments) return;
    instruments.storeDuration.record(durationMs, { operation, outcome: failed ? "error" : "ok" });
    if (failed) instruments.storeErrors.add(1, { operation });
  },
  /** Reports `lag()` (ms since the last successful poll, `undefined` before the first) until the returned function is called. */
  watchPollLag(lag: () => number | undefined): () => void {
    lagSources.add(lag);
    current();
    return () => void lagSources.delete(lag);
  },
};
