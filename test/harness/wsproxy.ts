// A WebSocket→TCP proxy so the Neon serverless driver can reach a plain PostgreSQL, the way
// Neon's own proxy does: the client connects to ws://<proxy>/v2?address=<host>:<port> and every
// binary message is forwarded to that TCP address and back.
import net from "node:net";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

export interface WsProxy {
  /** "127.0.0.1:<port>", the value for neonConfig.wsProxy / NEON_WS_PROXY. */
  address: string;
  /** WebSocket connections accepted since start: one per database connection a client opened. */
  connections(): number;
  /** Messages clients sent since start: the Neon driver coalesces one tick's writes into one, so about one per flight. */
  clientMessages(): number;
  /** Connections open right now. */
  open(): number;
  close(): Promise<void>;
}

/** Only loopback targets: this is a test harness, not an open relay. */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

export async function startWsProxy(): Promise<WsProxy> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let messages = 0;
  server.on("connection", (client: WebSocket, req) => {
    accepted++;
    const target = new URL(req.url ?? "/", "http://proxy").searchParams.get("address") ?? "";
    const sep = target.lastIndexOf(":");
    const host = target.slice(0, sep);
    const port = Number(target.slice(sep + 1));
    if (sep < 0 || !LOOPBACK.has(host) || !Number.isInteger(port)) {
      client.close(1008, "address not allowed");
      return;
    }
    const tcp = net.connect({ host, port });
    sockets.add(tcp);
    tcp.setNoDelay(true);
    // net.Socket buffers writes made before the connection is up, so no queue is needed here.
    // binaryType is the default "nodebuffer": every message arrives as one Buffer.
    client.on("message", (data: Buffer) => {
      messages++;
      tcp.write(data);
    });
    tcp.on("data", (chunk) => {
      if (client.readyState === client.OPEN) client.send(chunk, { binary: true });
    });
    const end = () => {
      sockets.delete(tcp);
      tcp.destroy();
      if (client.readyState === client.OPEN || client.readyState === client.CONNECTING) client.close();
    };
    tcp.on("close", end);
    tcp.on("error", end);
    client.on("close", end);
    client.on("error", end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    connections: () => accepted,
    clientMessages: () => messages,
    open: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}
