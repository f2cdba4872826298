import { hostname } from "node:os";
import type { SessionManager, Workers } from "../manager";
import type { RevocationPosition } from "../store/store";
import type { PresentedRefreshToken } from "../tokens/refresh";
import { cleanup } from "./admin";
import { decideUndelivered, type UnconfirmedWrite } from "./rotation";

/** How often each instance asks for recent revocations and claim changes: the propagation lag bound. */
export const REVOCATION_POLL_MS = 2000;
/** The most revoked handles one poll query returns; a burst is paged through. */
export const REVOKED_PAGE_SIZE = 10_000;
/** Clock skew between instances that the poll's overlap allows for. */
const CLOCK_SKEW_MS = 5000;
/** How often, and for how long, an unknown rotation outcome is retried in the background. */
const RESOLVE_INTERVAL_MS = 1000;
/** How often an instance compares its clock with the database's. */
const CLOCK_CHECK_INTERVAL_MS = 60_000;
const RESOLVE_FOR_MS = 10 * 60_000;

/**
 * What each instance does on its own timers, whatever the traffic — each a small query per
 * interval, all unref'd so they never keep a process alive: re-reading the signing keys,
 * polling revocations and claim invalidations, deleting expired sessions, and resolving
 * rotations whose outcome a 503 left unknown.
 */
export class BackgroundWork implements Workers {
  readonly #manager: SessionManager;
  #timers: NodeJS.Timeout[] = [];
  /** Where the next poll of revocations starts, in ms (its window overlaps the previous one's). */
  #since: number | undefined;
  /** Where the next poll of claim invalidations starts: it stays put while they cannot be read. */
  #claimsSince: number | undefined;
  readonly #unresolved = new Map<string, { presented: PresentedRefreshToken; wrote: UnconfirmedWrite; until: number }>();
  #clockCheckedAt = -Infinity;
  /** When the last successful poll started, and the last {@link pollIfStale} attempt, in ms; the poll it runs. */
  #polledAt = -Infinity;
  #attemptedAt = -Infinity;
  #stalePoll: Promise<void> | undefined;
  #staleFailing = false;

  constructor(manager: SessionManager) {
    this.#manager = manager;
  }

  start(): void {
    if (this.#timers.length > 0) return;
    const manager = this.#manager;
    this.#every(manager.keys.reloadIntervalMs, "reload signing keys", () => manager.keys.load());
    this.#every(REVOCATION_POLL_MS, "poll revoked sessions", () => this.pollOnce());
    if (manager.options.cleanupIntervalMs !== false) {
      // At most 20 batches a tick: a backlog is worked off over several ticks.
      this.#every(manager.options.cleanupIntervalMs, "clean up expired sessions", async () => void (await cleanup(manager, { maxBatches: 20 })));
    }
    this.#every(RESOLVE_INTERVAL_MS, "resolve unknown refresh outcomes", () => this.#resolveAll());
  }

  /** Stops the timers, after one last try at resolving what is still unknown. */
  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.#resolveAll().catch(() => {});
  }

  /**
   * Reads revocations and claim invalidations since the last poll. The window overlaps
   * the previous one by a poll interval, the store's deadline (a revocation is stamped at
   * most that long before its commit becomes visible) and the clock skew allowed between
   * instances; revocations are paged by (revoked_at, handle), so a burst stamped in one
   * millisecond is read whole. The first poll reaches back as far as a token can live.
   *
   * The two are read and advanced independently: revocations end sessions, and must keep
   * arriving while the claim invalidations cannot be read (a table missing after a partial
   * migration); those are logged, and read again from where they stopped once they can be.
   */
  async pollOnce(): Promise<void> {
    const manager = this.#manager;
    const started = manager.now();
    const oldest = started - manager.retentionMs;
    const overlap = REVOCATION_POLL_MS + (manager.store.callTimeoutMs ?? 0) + CLOCK_SKEW_MS;
    let position: RevocationPosition = { revokedAt: this.#since ?? oldest, handle: "" };
    for (;;) {
      const page = await manager.store.listRevokedSince(position, REVOKED_PAGE_SIZE);
      for (const { handle, revokedAt } of page) manager.revocations.add(handle, revokedAt);
      const last = page.at(-1);
      if (page.length < REVOKED_PAGE_SIZE || !last) break;
      position = last;
      // A burst of pages must not hold the event loop: requests go first.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.#since = started - overlap;
    try {
      for (const { userId, key, invalidatedAt } of await manager.store.listClaimInvalidationsSince(Math.max(this.#claimsSince ?? oldest, oldest))) {
        manager.invalidations.add(userId, key, invalidatedAt);
      }
      manager.invalidations.prune();
      this.#claimsSince = started - overlap;
    } catch (error) {
      manager.diagnostics.fault(
        "poll-claim-invalidations",
        "could not read claim invalidations; revocations are still read, and the invalidations will be read from where they stopped once they can be",
        error,
      );
    }
    this.#polledAt = started;
    await this.#checkClock();
  }

  /**
   * Polls before a request when the last poll is older than the interval: a process frozen
   * between invocations (AWS Lambda) runs no timers, so a warm function would otherwise
   * accept revoked tokens until its next tick. Concurrent callers share one poll, and one is
   * tried at most once an interval. While polls fail, requests do not wait on them
   * (verification needs no store, and must not pay a timeout each time); a failure is logged
   * once while it lasts. Never rejects.
   */
  pollIfStale(): Promise<void> {
    const now = this.#manager.now();
    if (now - this.#polledAt < REVOCATION_POLL_MS) return Promise.resolve();
    if (this.#stalePoll === undefined && now - this.#attemptedAt >= REVOCATION_POLL_MS) {
      this.#attemptedAt = now;
      this.#stalePoll = this.pollOnce()
        .then(
          () => {
            if (this.#staleFailing) this.#manager.log.warn("poll revoked sessions: working again");
            this.#staleFailing = false;
          },
          (error: unknown) => {
            if (!this.#staleFailing) this.#manager.log.error("poll revoked sessions failed; will retry", error);
            this.#staleFailing = true;
          },
        )
        .finally(() => {
          this.#stalePoll = undefined;
        });
    }
    return this.#staleFailing || this.#stalePoll === undefined ? Promise.resolve() : this.#stalePoll;
  }

  /**
   * Revocation and claim stamps come from each instance's clock, and every instance reads
   * them against its own: past the skew the poll's overlap allows, revocations can be missed
   * and `iat` refused. Says so, once, naming this instance. (The refresh grace window runs on
   * the database's clock and needs no agreement.)
   */
  async #checkClock(): Promise<void> {
    const manager = this.#manager;
    const store = manager.store;
    if (!store.databaseNow || Date.now() - this.#clockCheckedAt < CLOCK_CHECK_INTERVAL_MS) return;
    this.#clockCheckedAt = Date.now();
    const before = manager.now();
    // A database that cannot answer this is failing the poll's other queries too, and says so there.
    const database = await store.databaseNow().catch(() => Number.NaN);
    const after = manager.now();
    const skew = (before + after) / 2 - database;
    if (!Number.isFinite(skew) || Math.abs(skew) <= CLOCK_SKEW_MS + (after - before) / 2) return;
    manager.diagnostics.warnOnce(
      "clock-skew-database",
      `the clock of this instance (${hostname()}, pid ${process.pid}) is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? "ahead of" : "behind"} the database's, ` +
        `beyond the ${CLOCK_SKEW_MS / 1000} s the instances' clocks may differ: revocations may reach it late and its access tokens may be refused elsewhere. Synchronise it (NTP).`,
    );
  }

  /** Remembers a rotation of `presented` whose outcome is unknown, to resolve once the store answers. */
  resolveLater(handle: string, presented: PresentedRefreshToken, wrote: UnconfirmedWrite): void {
    this.#unresolved.set(handle, { presented, wrote, until: this.#manager.now() + RESOLVE_FOR_MS });
  }

  /** This instance's unresolved rotation of one of `tokens`, if any: the next refresh with it resolves it. */
  pendingResolution(handle: string, tokens: PresentedRefreshToken[]): PresentedRefreshToken | undefined {
    const entry = this.#unresolved.get(handle);
    return entry && tokens.some((token) => token.token === entry.presented.token) ? entry.presented : undefined;
  }

  resolved(handle: string): void {
    this.#unresolved.delete(handle);
  }

  // Once the store answers: if the rotation committed after all, mark its successor
  // undelivered, so that the client's retry with the old token earns it instead of
  // counting as theft.
  async #resolveAll(): Promise<void> {
    const manager = this.#manager;
    for (const [handle, { presented, wrote, until }] of this.#unresolved) {
      if (manager.now() > until) {
        this.#unresolved.delete(handle);
        manager.log.warn(`gave up resolving the outcome of a refresh of session ${handle}; its next refresh may count as theft`);
        continue;
      }
      await manager.store.updateSession(handle, (row) => decideUndelivered(row, presented, manager.keys.successorSecret, wrote));
      this.#unresolved.delete(handle);
    }
  }

  #every(intervalMs: number, what: string, work: () => Promise<void>): void {
    let failing = false;
    let running = false;
    const timer = setInterval(() => {
      // A slow tick (a database that stalls) must not pile up behind itself.
      if (running) return;
      running = true;
      work().then(
        () => {
          if (failing) this.#manager.log.warn(`${what}: working again`);
          failing = false;
        },
        (error: unknown) => {
          // Log a failure once, not every interval, while the database is down.
          if (!failing) this.#manager.log.error(`${what} failed; will retry`, error);
          failing = true;
        },
      ).finally(() => {
        running = false;
      });
    }, intervalMs);
    timer.unref();
    this.#timers.push(timer);
  }
}
