/**
 * How the revocation poll is doing, in this process's real time (not the `clock` option,
 * which tests freeze): when the last successful poll started, whether one has failed since,
 * and which polls are under way. `health()` and the poll-lag gauge read it.
 */
export class PollWatch {
  #succeededAt: number | undefined;
  #failure: { at: number; error: unknown } | undefined;
  readonly #running = new Set<number>();

  /** A poll starts; hand the result to {@link succeeded} or {@link failed}. */
  started(): number {
    const at = performance.now();
    this.#running.add(at);
    return at;
  }

  succeeded(startedAt: number): void {
    this.#running.delete(startedAt);
    if (this.#succeededAt === undefined || startedAt > this.#succeededAt) this.#succeededAt = startedAt;
    if (this.#failure && this.#failure.at <= startedAt) this.#failure = undefined;
  }

  failed(startedAt: number, error: unknown): void {
    this.#running.delete(startedAt);
    if (this.#succeededAt === undefined || startedAt > this.#succeededAt) this.#failure = { at: startedAt, error };
  }

  /** The error of a poll that failed after the last success began, if any. */
  get failure(): unknown {
    return this.#failure?.error;
  }

  /** Milliseconds since the last successful poll started; `undefined` before the first. */
  lag(): number | undefined {
    return this.#succeededAt === undefined ? undefined : performance.now() - this.#succeededAt;
  }

  /** How long the oldest poll under way has been running, in ms; `undefined` when none is. */
  runningFor(): number | undefined {
    if (this.#running.size === 0) return undefined;
    return performance.now() - Math.min(...this.#running);
  }
}
