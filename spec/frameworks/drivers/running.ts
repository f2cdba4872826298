import type { AddressInfo } from "node:net";
import type { SessionManagement } from "../../../lib";
import type { FrameworkApp } from "../driver";

/** A server a driver started listening on 127.0.0.1: what `close` and `address` the drivers need of it. */
interface Listening {
  address(): AddressInfo | string | null;
  close(callback: () => void): unknown;
}

/** The running app of a driver whose framework listens on a Node server: its URL, and a close that stops the server, then the sessions. */
export function runningApp(server: Listening, sessions: SessionManagement): FrameworkApp {
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    sessions,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sessions.close();
    },
  };
}
