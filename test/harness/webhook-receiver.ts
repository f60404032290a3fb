// A real webhook receiver for tests: a node:http server on 127.0.0.1 that verifies every request
// with the standardwebhooks library (as a customer would), records it, and can be told to be
// down (not listening: connection refused), to answer 500, or to hang (the dispatcher times out),
// to answer slowly, or to refuse chosen requests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  id: string;
  timestamp: string;
  body: { type: string; version: number; timestamp: string; data: Record<string, unknown> };
  verified: boolean;
}

/** What came over the wire for a request: its raw body and signature headers. */
export interface Wire {
  raw: string;
  headers: { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string };
}
// Kept beside the records (not in them), so tests comparing records whole are unaffected.
const wires = new WeakMap<Received, Wire>();
export const wireOf = (r: Received): Wire => wires.get(r)!;

/** Whether `r` carries a valid signature under `secret` (one of the header's signatures suffices). */
export function verifyWith(r: Received, secret: string): boolean {
  try {
    const { raw, headers } = wireOf(r);
    new Webhook(secret).verify(raw, headers);
    return true;
  } catch {
    return false;
  }
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
  /** Answer each request only after this long (a slow receiver). */
  delayMs: number;
  /** Answer 500 to the requests this returns true for (e.g. only the first of some type). */
  refuse: ((r: Received) => boolean) | undefined;
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
    delayMs: 0,
    refuse: undefined,
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
      const headers = {
        "webhook-id": String(req.headers["webhook-id"]),
        "webhook-timestamp": String(req.headers["webhook-timestamp"]),
        "webhook-signature": String(req.headers["webhook-signature"]),
      };
      let verified = false;
      try {
        new Webhook(r.secret ?? "whsec_").verify(raw, headers);
        verified = true;
      } catch {
        verified = false;
      }
      const got: Received = { id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], body: JSON.parse(raw), verified };
      wires.set(got, { raw, headers });
      r.received.push(got);
      if (r.mode === "hang") return; // never answers; the socket is destroyed on down()/close()
      const answer = () => {
        if (r.mode === "500" || !verified || r.refuse?.(got)) {
          res.writeHead(verified ? 500 : 401).end();
          return;
        }
        if (!processed.has(got.id)) processed.set(got.id, got);
        res.writeHead(204).end();
      };
      if (r.delayMs > 0) setTimeout(answer, r.delayMs);
      else answer();
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
