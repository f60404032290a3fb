// The agent process: configuration from the environment, the reconcile loop on its poll interval
// (exponential backoff with jitter after a failure, never longer than one interval), /healthz,
// /readyz and /metrics, JSON logs, and a graceful stop on SIGTERM.
//
//   GATEHOUSE_API_URL=https://… GATEHOUSE_TOKEN_FILE=/var/run/secrets/gatehouse/token node agent/main.ts
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { pino, type Logger } from "pino";
import { DEFAULT_POLL_INTERVAL_SECONDS } from "../src/protocol/agent.ts";
import { createApiClient, type ApiClient } from "./api-client.ts";
import { loadAgentConfig, type AgentConfig } from "./config.ts";
import { createIdleCollector } from "./heap.ts";
import { createKube, kubeConnectionFromEnvironment, type Kube } from "./kube.ts";
import { createMetrics, type AgentMetrics } from "./metrics.ts";
import { initialState, reconcileOnce, type AgentState } from "./reconcile.ts";

// The agent's own package (agent/package.json), which is also what its image installs.
export const AGENT_VERSION: string = (createRequire(import.meta.url)("./package.json") as { version: string }).version;

/** Delay before retry n (1-based) after failures: doubling from 1 s, capped at the poll interval, with jitter. */
export function backoffMs(failures: number, intervalMs: number, random = Math.random): number {
  const ceiling = Math.min(intervalMs, 1000 * 2 ** Math.min(failures - 1, 20));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export interface Agent {
  /** Resolves when the loop has stopped (after stop()). */
  done: Promise<void>;
  stop(): Promise<void>;
  state: AgentState;
  /** The port /healthz, /readyz and /metrics listen on. */
  port: number;
}

export interface AgentDeps {
  config: AgentConfig;
  kube?: Kube;
  api?: ApiClient;
  logger?: Logger;
  metrics?: AgentMetrics;
}

export async function startAgent(deps: AgentDeps): Promise<Agent> {
  const { config } = deps;
  const log = deps.logger ?? pino({ level: config.logLevel, base: { component: "gatehouse-agent", version: AGENT_VERSION } });
  const metrics = deps.metrics ?? createMetrics();
  const kube =
    deps.kube ??
    createKube(await kubeConnectionFromEnvironment(), {
      resyncMs: config.resyncMs,
      onWatchError: (path, e) => log.debug({ path, err: e instanceof Error ? e.message : String(e) }, "watch restarted"),
    });
  const api = deps.api ?? createApiClient(config.apiUrl, config.token, `gatehouse-agent/${AGENT_VERSION}`);
  const state = initialState();
  const abort = new AbortController();
  let lastPassStarted = Date.now();
  let intervalMs = (config.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS) * 1000;

  const server = await listen(config, async (path) => {
    switch (path) {
      case "/healthz": {
        // Alive unless the loop is wedged: a pass should start at least every interval (+ slack).
        const stale = Date.now() - lastPassStarted > 3 * intervalMs + config.templateTimeoutMs;
        return stale ? [503, "loop stalled\n"] : [200, "ok\n"];
      }
      case "/readyz":
        return state.lastSuccessAt ? [200, "ok\n"] : [503, "no successful sync yet\n"];
      case "/metrics":
        return [200, await metrics.registry.metrics(), metrics.registry.contentType];
      default:
        return [404, "not found\n"];
    }
  });

  // With --expose-gc (the image's flags): garbage collected while the loop sleeps (agent/heap.ts).
  const collectIdle = createIdleCollector();
  const loop = async () => {
    let failures = 0;
    while (!abort.signal.aborted) {
      lastPassStarted = Date.now();
      let ok = false;
      try {
        const pass = await reconcileOnce(
          {
            api,
            kube,
            log,
            metrics,
            agentVersion: AGENT_VERSION,
            templateTimeoutMs: config.templateTimeoutMs,
            auditResendMs: config.auditResendMs,
            gatekeeperNamespace: config.gatekeeperNamespace,
            gatekeeperAuditIntervalSeconds: config.gatekeeperAuditIntervalSeconds,
            gatekeeperWebhookService: config.gatekeeperWebhookService,
          },
          state,
        );
        intervalMs = (config.pollIntervalSeconds ?? pass.pollIntervalSeconds) * 1000;
        ok = pass.ok;
        log.debug({ revision: pass.revision, writes: pass.writes, ok, requeueAfterMs: pass.requeueAfterMs }, "pass done");
        // Waiting for Gatekeeper (a template compiling): look again soon, not after a whole interval.
        if (pass.requeueAfterMs !== null) {
          await sleep(pass.requeueAfterMs, abort.signal);
          continue;
        }
      } catch (e) {
        // The API is unreachable or erroring: keep what is applied, retry soon.
        log.warn({ err: e instanceof Error ? e.message : String(e) }, "pass failed; nothing in the cluster was changed");
      }
      failures = ok ? 0 : failures + 1;
      collectIdle();
      await sleep(ok ? intervalMs : backoffMs(failures, intervalMs), abort.signal);
    }
  };
  const done = loop().finally(() => {
    kube.stop?.();
    return new Promise<void>((r) => server.close(() => r()));
  });
  log.info({ api: config.apiUrl, port: portOf(server) }, "agent started");

  return {
    done,
    state,
    port: portOf(server),
    async stop() {
      abort.abort();
      await done;
      log.info("agent stopped");
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

type Handler = (path: string) => Promise<[number, string, string?]>;

function listen(config: AgentConfig, handle: Handler): Promise<Server> {
  const server = createServer((req, res) => {
    handle(new URL(req.url ?? "/", "http://agent").pathname).then(
      ([status, body, type]) => res.writeHead(status, { "content-type": type ?? "text/plain; charset=utf-8" }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.httpPort, config.httpHost, () => resolve(server));
  });
}

const portOf = (s: Server) => {
  const a = s.address();
  return typeof a === "object" && a ? a.port : 0;
};

// Run as a program: stop gracefully on SIGTERM/SIGINT (the pass in flight finishes first).
if (import.meta.main) {
  const agent = await startAgent({ config: loadAgentConfig() });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      void agent.stop().then(() => process.exit(0));
    });
  }
}
