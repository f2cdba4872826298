// Exact type equality (not mere assignability): Equal<string, string | undefined> is false.
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true`: `expectType<Equal<typeof x, string>>()`. */
export function expectType<T extends true>(): T | void {}
