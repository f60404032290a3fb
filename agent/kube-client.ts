// A small Kubernetes REST client on node:http(s): the agent needs get, list, watch, server-side
// apply, replace and delete of a handful of known kinds, nothing else. @kubernetes/client-node
// did this before, but importing it alone costs ~87 MiB of RSS (its generated models for every
// API), more than the agent's whole budget (bench/agent: ≤ 100 MiB); and it discovers resource
// names with extra requests, where the agent knows them (resourcePath).
//
// Credentials: the in-cluster service account (token re-read from its file, as bound tokens
// rotate), or a kubeconfig (KUBECONFIG, else ~/.kube/config): server, CA, bearer token or token
// file, client certificate. Exec credential plugins and auth-providers are not supported.
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { homedir } from "node:os";
import { join } from "node:path";

/** A failed request: the HTTP status (undefined when the server was not reached) and its Status body. */
export class KubeError extends Error {
  readonly code: number | undefined;
  readonly body: unknown;
  constructor(message: string, code?: number, body?: unknown) {
    super(message);
    this.name = "KubeError";
    this.code = code;
    this.body = body;
  }
}

export interface KubeConnection {
  server: URL;
  /** The bearer token, read on every request (a file's content may rotate). */
  token: (() => string) | null;
  tls: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized: boolean };
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** From KUBECONFIG (first file), ~/.kube/config, or the in-cluster service account, in that order. */
export async function connectionFromEnvironment(env: Record<string, string | undefined> = process.env): Promise<KubeConnection> {
  const file = env.KUBECONFIG?.split(":")[0] || join(homedir(), ".kube", "config");
  let text: string | null = null;
  try {
    text = readFileSync(file, "utf8");
  } catch {}
  if (text !== null) return fromKubeconfig(await parseKubeconfig(text), file);
  const host = env.KUBERNETES_SERVICE_HOST;
  if (!host) throw new Error(`no kubeconfig at ${file} and not running in a cluster (KUBERNETES_SERVICE_HOST unset)`);
  const port = env.KUBERNETES_SERVICE_PORT ?? "443";
  const tokenFile = `${SA_DIR}/token`;
  return {
    server: new URL(`https://${host.includes(":") ? `[${host}]` : host}:${port}`),
    token: fileReader(tokenFile),
    tls: { ca: readFileSync(`${SA_DIR}/ca.crt`), rejectUnauthorized: true },
  };
}

/** A token file re-read at most once a minute (kubelet refreshes bound tokens well before expiry). */
function fileReader(path: string): () => string {
  let value = "";
  let readAt = 0;
  return () => {
    if (Date.now() - readAt > 60_000) {
      value = readFileSync(path, "utf8").trim();
      readAt = Date.now();
    }
    return value;
  };
}

// JSON is YAML: a JSON kubeconfig (what the test harness writes) needs no YAML parser in memory.
async function parseKubeconfig(text: string): Promise<Kubeconfig> {
  try {
    return JSON.parse(text) as Kubeconfig;
  } catch {
    const { parse } = await import("yaml");
    return parse(text) as Kubeconfig;
  }
}

interface Kubeconfig {
  "current-context"?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: {
    name: string;
    cluster: { server: string; "certificate-authority-data"?: string; "certificate-authority"?: string; "insecure-skip-tls-verify"?: boolean };
  }[];
  users?: {
    name: string;
    user: {
      token?: string;
      tokenFile?: string;
      "client-certificate-data"?: string;
      "client-key-data"?: string;
      "client-certificate"?: string;
      "client-key"?: string;
      exec?: unknown;
      "auth-provider"?: unknown;
    };
  }[];
}

function fromKubeconfig(kc: Kubeconfig, file: string): KubeConnection {
  const context = kc.contexts?.find((c) => c.name === kc["current-context"])?.context ?? kc.contexts?.[0]?.context;
  const cluster = kc.clusters?.find((c) => c.name === context?.cluster)?.cluster;
  const user = kc.users?.find((u) => u.name === context?.user)?.user ?? {};
  if (!cluster?.server) throw new Error(`${file}: no cluster server for the current context`);
  if (user.exec || user["auth-provider"])
    throw new Error(`${file}: exec and auth-provider credentials are not supported by the agent; use a token or a client certificate`);
  const b64 = (s: string | undefined) => (s ? Buffer.from(s, "base64") : undefined);
  const read = (p: string | undefined) => (p ? readFileSync(p) : undefined);
  const token = user.token;
  return {
    server: new URL(cluster.server),
    token: token ? () => token : user.tokenFile ? fileReader(user.tokenFile) : null,
    tls: {
      ca: b64(cluster["certificate-authority-data"]) ?? read(cluster["certificate-authority"]),
      cert: b64(user["client-certificate-data"]) ?? read(user["client-certificate"]),
      key: b64(user["client-key-data"]) ?? read(user["client-key"]),
      rejectUnauthorized: cluster["insecure-skip-tls-verify"] !== true,
    },
  };
}

// Resources whose plural the agent must know (no discovery requests). Constraint kinds are
// Gatekeeper's generated CRDs, whose plural is the kind in lower case.
const PLURALS: Record<string, string> = {
  CustomResourceDefinition: "customresourcedefinitions",
  ConstraintTemplate: "constrainttemplates",
  ExpansionTemplate: "expansiontemplate", // Gatekeeper names this resource in the singular
  Deployment: "deployments",
  ReplicaSet: "replicasets",
  Job: "jobs",
  CronJob: "cronjobs",
  EndpointSlice: "endpointslices",
  Event: "events",
  Namespace: "namespaces",
  PolicyReport: "policyreports",
  ClusterPolicyReport: "clusterpolicyreports",
};

/** The REST path of a kind's collection (namespace given: namespaced) or of one object (name given). */
export function resourcePath(apiVersion: string, kind: string, namespace?: string, name?: string): string {
  const plural = PLURALS[kind] ?? (apiVersion.startsWith("constraints.gatekeeper.sh/") ? kind.toLowerCase() : null);
  if (!plural) throw new Error(`the agent does not know the resource of ${apiVersion} ${kind}`);
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return `${base}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ""}/${plural}${name ? `/${encodeURIComponent(name)}` : ""}`;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
}

export interface KubeClient {
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<T>;
  /**
   * A watch: calls onEvent for every event line, resolves when the server ends the stream
   * (its timeoutSeconds), rejects on a failure. abort() ends it early.
   */
  watch(
    path: string,
    query: RequestOptions["query"],
    onEvent: (e: { type: string; object: Record<string, unknown> }) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

export function createKubeClient(conn: KubeConnection): KubeClient {
  const secure = conn.server.protocol === "https:";
  // One keep-alive agent: requests reuse its idle connections. No socket limit: every watch holds
  // a connection for as long as it runs (HTTP/1.1), and a cap would queue requests behind them.
  const agent = secure ? new https.Agent({ keepAlive: true, ...conn.tls }) : new http.Agent({ keepAlive: true });
  const prefix = conn.server.pathname.replace(/\/+$/, "");

  const open = (method: string, path: string, opts: RequestOptions, signal?: AbortSignal) =>
    new Promise<http.IncomingMessage>((resolve, reject) => {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) qs.set(k, String(v));
      const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
      const headers: http.OutgoingHttpHeaders = { accept: "application/json", "user-agent": "gatehouse-agent" };
      const token = conn.token?.();
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) {
        headers["content-type"] = opts.contentType ?? "application/json";
        headers["content-length"] = Buffer.byteLength(body);
      }
      const req = (secure ? https : http).request(
        {
          protocol: conn.server.protocol,
          hostname: conn.server.hostname.replace(/^\[|\]$/g, ""),
          port: conn.server.port || (secure ? 443 : 80),
          path: `${prefix}${path}${qs.size ? `?${qs}` : ""}`,
          method,
          headers,
          agent,
          signal,
          timeout: opts.timeoutMs,
        },
        resolve,
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on("error", (e) => reject(new KubeError(`${method} ${path}: ${e.message}`)));
      req.end(body);
    });

  const readAll = async (res: http.IncomingMessage) => {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  };

  const failure = (method: string, path: string, status: number, text: string) => {
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    const message = (body as { message?: string })?.message ?? text.slice(0, 500);
    return new KubeError(`${method} ${path}: ${status} ${message}`, status, body);
  };

  return {
    async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
      // 429 is the API server asking to come back (a new CRD's storage still initializing,
      // priority and fairness): retried after its Retry-After, as client-go does.
      for (let attempt = 1; ; attempt++) {
        const res = await open(method, path, { timeoutMs: 30_000, ...opts });
        const text = await readAll(res);
        const status = res.statusCode ?? 0;
        if (status === 429 && attempt < 10) {
          const after = Number(res.headers["retry-after"]);
          await new Promise((r) => setTimeout(r, Math.min(Number.isFinite(after) && after > 0 ? after : 1, 5) * 1000));
          continue;
        }
        if (status >= 400) throw failure(method, path, status, text);
        return (text ? JSON.parse(text) : {}) as T;
      }
    },
    async watch(path, query, onEvent, signal) {
      const res = await open("GET", path, { query: { ...query, watch: 1 } }, signal);
      const status = res.statusCode ?? 0;
      if (status >= 400) throw failure("GET", path, status, await readAll(res));
      res.setEncoding("utf8"); // a character split across chunks stays whole
      let buffered = "";
      try {
        for await (const chunk of res) {
          buffered += chunk as string;
          for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line) onEvent(JSON.parse(line) as { type: string; object: Record<string, unknown> });
          }
        }
      } catch (e) {
        if (signal.aborted) return;
        throw e;
      }
    },
  };
}
