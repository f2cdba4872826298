import { storeUnavailable } from "./errors";
import type { SessionManager } from "./manager";
import { metrics } from "./metrics";
import type { PollWatch } from "./poll-watch";
import { BackgroundWork, REVOCATION_POLL_MS } from "./sessions/background";

/**
 * Past this, the poll is overdue: two missed intervals and a second's slack. A stalled
 * database (connections accepted, nothing answered) fails no query until its timeout, so
 * without this bound `health()` would stay green for as long as that.
 */
export const POLL_OVERDUE_MS = 2 * REVOCATION_POLL_MS + 1000;

/**
 * The background work, watched: every revocation poll's outcome goes to the manager's
 * {@link PollWatch} (for `health()`), and the poll lag is reported as a metric while the
 * timers run. A subclass, so that the work itself stays as it is.
 */
export class WatchedBackgroundWork extends BackgroundWork {
  readonly #watch: PollWatch;
  #unwatch: (() => void) | undefined;

  constructor(manager: SessionManager) {
    super(manager);
    this.#watch = manager.polls;
  }

  override async pollOnce(): Promise<void> {
    const startedAt = this.#watch.started();
    try {
      await super.pollOnce();
    } catch (error) {
      this.#watch.failed(startedAt, error);
      throw error;
    }
    this.#watch.succeeded(startedAt);
  }

  override start(): void {
    super.start();
    this.#unwatch ??= metrics.watchPollLag(() => this.#watch.lag());
  }

  override async stop(): Promise<void> {
    this.#unwatch?.();
    this.#unwatch = undefined;
    await super.stop();
  }
}

/**
 * Whether the store answers now, from what the revocation poll (every 2 s, on every
 * instance) last saw, so a health check costs no query: rejects with `STORE_UNAVAILABLE`
 * (the poll's error as `cause`) once a poll has failed, or when none has succeeded for
 * {@link POLL_OVERDUE_MS}; resolves again after the next poll that succeeds. Before that,
 * the start-up gate: what `ready()` does. When no poll is running although one is overdue
 * (a process frozen between requests runs no timers), it polls now and answers with that.
 */
export async function checkHealth(manager: SessionManager): Promise<void> {
  await manager.ready();
  const watch = manager.polls;
  if (watch.failure !== undefined) throw storeUnavailable(watch.failure);
  const lag = watch.lag() ?? Infinity;
  if (lag <= POLL_OVERDUE_MS) return;
  const running = watch.runningFor();
  if (running === undefined) {
    await manager.background.pollOnce().catch((error: unknown) => {
      throw storeUnavailable(error);
    });
    return;
  }
  throw storeUnavailable(new Error(`the revocation poll has not answered for ${Math.round(running)} ms (last success ${Math.round(lag)} ms ago)`));
}
