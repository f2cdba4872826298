import type { SessionManager } from "../manager";
import { TokenTransfer } from "./transfer";

/** What one set of sessions (one `sessionMiddleware()`, one adapter instance) shares with its guards and its sessions. */
export interface Runtime {
  manager: SessionManager;
  transfer: TokenTransfer;
}

/** The HTTP side of a manager (built by `createManager` in lib/management.ts): one per adapter instance. */
export function createRuntime(manager: SessionManager): Runtime {
  return { manager, transfer: new TokenTransfer(manager.options) };
}
