// A reverse proxy in front of the API server that counts requests by method: point a client at
// it (cluster.kubeconfig(token, proxy.url)) to prove, e.g., that an agent loop which changes
// nothing makes 0 writes. Headers (Authorization included) pass through unchanged; bodies are
// streamed both ways, so watches work. Connection upgrades (exec, port-forward) are not proxied.
//
// Plain HTTP by default. kubectl (client-go) never sends a bearer token to an http:// server, and
// @kubernetes/client-node only talks http:// with insecure-skip-tls-verify set (cluster.kubeconfig
// sets it for http URLs). To put kubectl behind the proxy, serve TLS with the API server's own
// serving certificate: startCountingProxy(cluster.server, cluster.caData, { tls: cluster.servingTls })
// — the kubeconfig's CA then trusts the proxy too.
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

export interface ProxiedRequest {
  method: string;
  /** Path with query string, e.g. /api/v1/namespaces?watch=true */
  path: string;
}

export interface ProxyCounts {
  /** GET and HEAD requests (gets, lists and watches). */
  reads: number;
  /** POST, PUT, PATCH and DELETE requests. */
  writes: number;
  byMethod: Record<string, number>;
  requests: ProxiedRequest[];
}

export interface CountingProxyOptions {
  /** Serve HTTPS with this certificate chain and key (PEM) instead of plain HTTP. */
  tls?: { cert: string; key: string };
}

export interface CountingProxy {
  /** http://127.0.0.1:<port>, or https://127.0.0.1:<port> with opts.tls */
  readonly url: string;
  /** A snapshot of the counts since start or the last reset(). */
  counts(): ProxyCounts;
  reset(): void;
  /** Stops listening and drops open connections (watches included). */
  close(): Promise<void>;
}

const READS = new Set(["GET", "HEAD"]);
const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);
// Hop-by-hop headers (RFC 9110 §7.6.1) are not forwarded.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/**
 * @param upstream the API server's URL (https or http)
 * @param caData the CA to trust for an https upstream, as PEM or base64 of PEM (Cluster.caData or
 *   Cluster.caPem); without it the upstream's certificate is not verified (loopback tests only).
 * @param opts.tls serve HTTPS (needed for kubectl, see above).
 */
export async function startCountingProxy(upstream: string, caData?: string, opts: CountingProxyOptions = {}): Promise<CountingProxy> {
  const base = new URL(upstream);
  const isHttps = base.protocol === "https:";
  const ca = caData === undefined ? undefined : caData.includes("-----BEGIN") ? caData : Buffer.from(caData, "base64").toString("utf8");
  const agent = isHttps ? new https.Agent({ keepAlive: true, ca, rejectUnauthorized: ca !== undefined }) : new http.Agent({ keepAlive: true });

  let counts: ProxyCounts = { reads: 0, writes: 0, byMethod: {}, requests: [] };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = (req.method ?? "GET").toUpperCase();
    const path = req.url ?? "/";
    counts.byMethod[method] = (counts.byMethod[method] ?? 0) + 1;
    if (READS.has(method)) counts.reads++;
    else if (WRITES.has(method)) counts.writes++;
    counts.requests.push({ method, path });

    const headers = endToEnd(req.headers);
    headers.host = base.host;
    const options: https.RequestOptions = {
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port,
      method,
      path,
      headers,
      agent,
    };
    const onResponse = (up: http.IncomingMessage) => {
      res.writeHead(up.statusCode ?? 502, up.statusMessage, endToEnd(up.headers));
      res.flushHeaders();
      up.pipe(res);
      up.on("error", () => res.destroy());
    };
    const upReq = isHttps ? https.request(options, onResponse) : http.request(options, onResponse);
    upReq.on("error", (err) => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain" });
        res.end(`counting proxy: upstream error: ${err.message}\n`);
      } else {
        res.destroy(err);
      }
    });
    // The client went away (e.g. a watch was cancelled): drop the upstream request too.
    res.on("close", () => {
      if (!res.writableFinished) upReq.destroy();
    });
    req.pipe(upReq);
  };
  const server: http.Server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`,
    counts: () => ({
      reads: counts.reads,
      writes: counts.writes,
      byMethod: { ...counts.byMethod },
      requests: counts.requests.map((r) => ({ ...r })),
    }),
    reset() {
      counts = { reads: 0, writes: 0, byMethod: {}, requests: [] };
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}
