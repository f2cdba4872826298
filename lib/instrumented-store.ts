import { SessionError } from "./errors";
import { rememberStoreOperation } from "./logger";
import { metrics } from "./metrics";
import type { SessionStore } from "./store/store";

/** Store members that are not calls to time. */
const UNTIMED: ReadonlySet<PropertyKey> = new Set(["constructor", "callTimeoutMs", "close"]);

/**
 * The store as the manager uses it: every call timed (`latchkey.store.duration`), and every
 * failed one counted (`latchkey.store.errors`) and handed to `onFailure(error, operation)`,
 * where `operation` is the method's name. One store call is one report however many times the
 * store retried a conflict inside it. `TypeError`s (a caller's mistake) and `SessionError`s
 * (a decision, not a fault) are not store failures.
 *
 * A proxy rather than a class, so that a store's own methods (the MySQL store's extras, a
 * custom store's) all pass through unchanged; calls run on the store itself, whose private
 * fields a proxy does not have.
 */
export function instrumentStore(store: SessionStore, onFailure: (error: unknown, operation: string) => void): SessionStore {
  // By function, not by name: a spec (or an app) that replaces a store method later is obeyed.
  const wrapped = new WeakMap<object, unknown>();
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      let call = wrapped.get(value);
      if (call === undefined && (UNTIMED.has(property) || typeof property === "symbol")) {
        call = (value as (...args: unknown[]) => unknown).bind(target);
        wrapped.set(value, call);
      } else if (call === undefined) {
        const operation = String(property);
        const method = value as (...args: unknown[]) => unknown;
        const failed = (error: unknown, started: number): never => {
          const fault = !(error instanceof TypeError || error instanceof SessionError);
          metrics.storeCall(operation, performance.now() - started, fault);
          if (fault) {
            rememberStoreOperation(error, operation);
            onFailure(error, operation);
          }
          throw error;
        };
        call = (...args: unknown[]) => {
          const started = performance.now();
          let result: unknown;
          try {
            result = method.apply(target, args);
          } catch (error) {
            return failed(error, started);
          }
          // Every store call the manager makes is async; anything else passes through as it is.
          if (!(result instanceof Promise)) return result;
          return result.then(
            (value: unknown) => {
              metrics.storeCall(operation, performance.now() - started, false);
              return value;
            },
            (error: unknown) => failed(error, started),
          );
        };
        wrapped.set(value, call);
      }
      return call;
    },
  });
}
