// The Go WebSocket proxy bench:workers puts between workerd and PgBouncer (test/tools/wsproxy)
// carries the Neon driver to the run's real PostgreSQL — the SCRAM login, queries, payloads
// larger than one TCP read either way — counts what the bench reads from its /stats, and refuses
// every target that is not a loopback host:port before opening anything.
import { Client } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ws from "ws";
import { freePorts } from "./cluster-process.ts";
import { startGoWsProxy, type GoWsProxy } from "./go-wsproxy.ts";
import { acquirePostgres, type TestPostgres } from "./postgres.ts";

describe("Go WebSocket→TCP proxy", () => {
  let pg: TestPostgres;
  let proxy: GoWsProxy;
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    pg = await acquirePostgres();
    db = await pg.createDatabase();
    proxy = await startGoWsProxy();
  });
  afterAll(async () => {
    await proxy?.close();
    await db?.drop();
    await pg?.release();
  });

  /** A Neon driver client through the Go proxy (per-client settings: the harness's own proxy stays process-wide). */
  const client = (url = db.url) => {
    const c = new Client(url);
    c.neonConfig.webSocketConstructor = ws as unknown as typeof c.neonConfig.webSocketConstructor;
    c.neonConfig.wsProxy = (host, port) => `${proxy.address}/v2?address=${host}:${port}`;
    c.neonConfig.useSecureWebSocket = false;
    c.neonConfig.pipelineConnect = false; // PostgreSQL asks for SCRAM
    c.neonConfig.pipelineTLS = false;
    return c;
  };
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 20));
  };

  it("listens on loopback and prints the address it got", () => {
    expect(proxy.address).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it("carries the Neon driver to PostgreSQL and counts the connection and its messages", async () => {
    const before = await proxy.stats();
    const c = client();
    await c.connect();
    try {
      const r = await c.query<{ one: number; port: number }>("select 1 as one, inet_server_port() as port");
      expect(r.rows).toEqual([{ one: 1, port: pg.server.port }]);
      const during = await proxy.stats();
      expect(during.connections).toBe(before.connections + 1);
      expect(during.open).toBe(before.open + 1);
      // Startup, two SCRAM messages and the query, at least: the driver writes each flight as one message.
      expect(during.clientMessages).toBeGreaterThanOrEqual(before.clientMessages + 4);
    } finally {
      await c.end();
    }
    await until(async () => (await proxy.stats()).open === before.open);
    expect((await proxy.stats()).open).toBe(before.open);
  });

  it("relays messages larger than one TCP read in both directions, intact", async () => {
    const c = client();
    await c.connect();
    try {
      const big = "gatehouse-".repeat(50_000); // 500 kB up
      const up = await c.query<{ n: number; md5: string }>("select length($1)::int as n, md5($1) as md5", [big]);
      expect(up.rows[0]!.n).toBe(big.length);
      const down = await c.query<{ s: string }>("select repeat('0123456789', 100000) as s"); // 1 MB down
      expect(down.rows[0]!.s).toBe("0123456789".repeat(100_000));
    } finally {
      await c.end();
    }
  });

  it("closes the WebSocket when the target refuses the TCP connection", async () => {
    const [closed] = (await freePorts(1)) as [number];
    const c = client(db.url.replace(`:${pg.server.port}/`, `:${closed}/`));
    c.on("error", () => {});
    await expect(c.connect()).rejects.toThrow();
  });

  /** The HTTP status of a raw WebSocket handshake with ?address=<address>. */
  const handshake = (address: string) =>
    new Promise<number>((resolve, reject) => {
      const sock = new ws(`ws://${proxy.address}/v2?address=${encodeURIComponent(address)}`);
      sock.once("unexpected-response", (_req, res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      sock.once("open", () => {
        sock.terminate();
        resolve(101);
      });
      sock.once("error", reject);
    });

  it.each([
    "10.0.0.1:5432",
    "192.0.2.1:5432",
    "example.com:5432",
    "localhost.example.com:5432",
    "[::ffff:10.0.0.1]:5432",
    "127.0.0.1",
    "127.0.0.1:0",
    "127.0.0.1:70000",
    "127.0.0.1:port",
    "",
  ])("refuses the target %j with 403 before upgrading, counted apart", async (address) => {
    const before = await proxy.stats();
    expect(await handshake(address)).toBe(403);
    const after = await proxy.stats();
    expect(after.refused).toBe(before.refused + 1);
    expect(after.connections).toBe(before.connections);
  });

  it("refuses the Neon driver's connection to a non-loopback database host", async () => {
    const before = await proxy.stats();
    const c = client(db.url.replace(`@${pg.server.host}:`, "@192.0.2.1:"));
    c.on("error", () => {});
    await expect(c.connect()).rejects.toThrow();
    expect((await proxy.stats()).refused).toBe(before.refused + 1);
  });

  it("a loopback target is upgraded (the refusals above are the address check, not the handshake)", async () => {
    expect(await handshake(`127.0.0.1:${pg.server.port}`)).toBe(101);
  });
});
