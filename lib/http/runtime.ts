import type { SessionManager } from "../manager";
import type { TokenTransfer } from "./transfer";

/** What one set of sessions (one `sessionMiddleware()`, one adapter instance) shares with its guards and its sessions. */
export interface Runtime {
  manager: SessionManager;
  transfer: TokenTransfer;
}
