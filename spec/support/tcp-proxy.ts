import net from "node:net";

/**
 * A TCP proxy between the app and MariaDB, so a spec can break the real connection:
 * `refuse()` closes every connection and refuses new ones, `stall()` keeps sockets open
 * but forwards nothing (a database that accepts connections and never answers), and
 * `pass()` restores service.
 *
 * Two faults follow the COMMIT of a transaction, found by its command packet
 * (COM_QUERY "COMMIT"):
 * - `loseCommitReplies()`: the COMMIT reaches the server and commits, but that
 *   connection's answers are held back for good (a reply lost on the network);
 * - `freezeFromCommit()`: from the COMMIT on, everything clients send (on every
 *   connection) is held back — a stalled node — and `thaw()` delivers it all, in order,
 *   even on connections whose clients have given up meanwhile, as a server that had the
 *   bytes in its socket buffer would process them.
 */
export interface TcpProxy {
  port: number;
  pass(): Promise<void>;
  refuse(): Promise<void>;
  stall(): void;
  loseCommitReplies(): void;
  freezeFromCommit(): void;
  thaw(): void;
  /** Resolves once a COMMIT has been seen while one of the COMMIT faults is armed. */
  commitSeen(): Promise<void>;
  close(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  held: Buffer[];
  repliesLost: boolean;
}

const COM_QUERY = 0x03;

function isCommit(chunk: Buffer): boolean {
  // A MySQL packet: 3-byte length, 1-byte sequence, then the command and its text.
  return chunk.length >= 11 && chunk[4] === COM_QUERY && chunk.subarray(5, 11).toString("latin1").toUpperCase() === "COMMIT";
}

export async function tcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: "pass" | "stall" = "pass";
  let commitFault: "none" | "lose-replies" | "freeze" = "none";
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const links = new Set<Link>();
  const commitWaiters: (() => void)[] = [];
  let server = net.createServer(accept);
  let port = 0;

  function accept(client: net.Socket): void {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    if (mode === "stall") return; // accepted, never answered
    const upstream = net.connect(targetPort, targetHost);
    const link: Link = { client, upstream, held: [], repliesLost: false };
    links.add(link);
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      links.delete(link);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    // A client that gives up while its bytes are held: the server still gets them at thaw().
    client.on("close", () => {
      if (link.held.length === 0) upstream.destroy();
    });
    client.on("data", (chunk) => {
      if (mode !== "pass") return;
      if (commitFault !== "none" && isCommit(chunk)) {
        if (commitFault === "freeze") frozen = true;
        else link.repliesLost = true;
        commitFault = "none";
        for (const resolve of commitWaiters.splice(0)) resolve();
      }
      if (frozen) link.held.push(chunk);
      else upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (mode === "pass" && !link.repliesLost && !client.destroyed) client.write(chunk);
    });
  }

  function listen(): Promise<void> {
    return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  }

  await listen();
  port = (server.address() as net.AddressInfo).port;

  const closeServer = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      server.close(() => resolve());
    });

  return {
    port,
    async pass() {
      mode = "pass";
      if (!server.listening) {
        server = net.createServer(accept);
        await listen();
      }
    },
    async refuse() {
      mode = "pass";
      await closeServer();
    },
    stall() {
      mode = "stall";
    },
    loseCommitReplies() {
      commitFault = "lose-replies";
    },
    freezeFromCommit() {
      commitFault = "freeze";
    },
    thaw() {
      frozen = false;
      for (const link of links) {
        for (const chunk of link.held.splice(0)) link.upstream.write(chunk);
        // Its client left while frozen: let the server read what it sent, then hang up.
        if (link.client.destroyed) link.upstream.end();
      }
    },
    commitSeen() {
      return new Promise((resolve) => commitWaiters.push(resolve));
    },
    close: closeServer,
  };
}
