// A real webhook receiver for tests: a node:http server on 127.0.0.1 that verifies every request
// with the standardwebhooks library (as a customer would), records it, and can be told to be
// down (not listening: connection refused), to answer 500, or to hang (the dispatcher times out).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  id: string;
  timestamp: string;
  body: { type: string; version: number; timestamp: string; data: Record<string, unknown> };
  verified: boolean;
}

export type Mode = "ok" | "500" | "hang";

export interface Receiver {
  url: string;
  /** Every request that arrived (including ones answered 500), in order. */
  received: Received[];
  /** Requests answered 2xx, deduplicated on webhook-id: what a careful receiver processed. */
  processed(): Map<string, Received>;
  secret: string | undefined;
  mode: Mode;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(path = "/hooks"): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const processed = new Map<string, Received>();
  const r: Receiver = {
    url: "",
    received: [],
    processed: () => processed,
    secret: undefined,
    mode: "ok",
    down: async () => {
      await new Promise<void>((res) => {
        server.close(() => res());
        for (const s of sockets) s.destroy();
      });
    },
    up: () => listen(port),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const headers = { "webhook-id": String(req.headers["webhook-id"]), "webhook-timestamp": String(req.headers["webhook-timestamp"]), "webhook-signature": String(req.headers["webhook-signature"]) };
      let verified = false;
      try {
        new Webhook(r.secret ?? "whsec_").verify(raw, headers);
        verified = true;
      } catch {
        verified = false;
      }
      const got: Received = { id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], body: JSON.parse(raw), verified };
      r.received.push(got);
      if (r.mode === "hang") return; // never answers; the socket is destroyed on down()/close()
      if (r.mode === "500" || !verified) {
        res.writeHead(verified ? 500 : 401).end();
        return;
      }
      if (!processed.has(got.id)) processed.set(got.id, got);
      res.writeHead(204).end();
    });
  };
  const server: Server = createServer(handle);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const listen = (p: number) => new Promise<void>((res) => server.listen(p, "127.0.0.1", () => res()));
  await listen(0);
  const port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${port}${path}`;
  return r;
}
