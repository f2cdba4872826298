import fs from "node:fs";
import net from "node:net";

/**
 * Distinct free loopback ports, all held open at once so none is handed out twice, and
 * taken from below the kernel's ephemeral range: a database server binds its ports
 * seconds after they were picked (a Galera joiner only after its state transfer), and a
 * port from listen(0) could meanwhile become the local port of any outgoing connection.
 */
export async function freePorts(count: number): Promise<number[]> {
  const [ephemeralLow] = ephemeralRange();
  const low = 10_000;
  const high = Math.max(low + 1000, ephemeralLow) - 1;
  const servers: net.Server[] = [];
  const ports = new Set<number>();
  try {
    for (let attempt = 0; ports.size < count; attempt++) {
      if (attempt > count * 50) throw new Error(`no ${count} free ports between ${low} and ${high}`);
      const port = low + Math.floor(Math.random() * (high - low + 1));
      if (ports.has(port)) continue;
      const server = await listening(port);
      if (server === undefined) continue;
      servers.push(server);
      ports.add(port);
    }
    return [...ports];
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low as number, high as number];
  } catch {
    // not Linux: assume the IANA range
  }
  return [49152, 65535];
}

function listening(port: number): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
