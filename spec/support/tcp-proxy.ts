import net from "node:net";

/**
 * A TCP proxy between the app and MariaDB, so a spec can break the real connection:
 * `refuse()` closes every connection and refuses new ones, `stall()` keeps sockets open
 * but forwards nothing (a database that accepts connections and never answers), and
 * `pass()` restores service.
 */
export interface TcpProxy {
  port: number;
  pass(): Promise<void>;
  refuse(): Promise<void>;
  stall(): void;
  close(): Promise<void>;
}

export async function tcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  let mode: "pass" | "stall" = "pass";
  const sockets = new Set<net.Socket>();
  let server = net.createServer(accept);
  let port = 0;

  function accept(client: net.Socket): void {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    client.on("error", () => client.destroy());
    if (mode === "stall") return; // accepted, never answered
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(upstream);
    upstream.on("close", () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    client.on("data", (chunk) => {
      if (mode === "pass") upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (mode === "pass") client.write(chunk);
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
    close: closeServer,
  };
}
