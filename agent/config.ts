// The agent's configuration, from its environment (the Deployment in infra/ sets these).
import { readFileSync } from "node:fs";
import { z } from "zod";

const Env = z.object({
  /** Base URL of the Gatehouse API, e.g. https://api.gatehouse.dev */
  GATEHOUSE_API_URL: z.url({ protocol: /^https?$/ }),
  /** The agent credential (gha_...): read from this file on every request, so a rotated Secret is picked up. */
  GATEHOUSE_TOKEN_FILE: z.string().min(1).default("/var/run/secrets/gatehouse/token"),
  /** Development only: the credential itself instead of a file. */
  GATEHOUSE_TOKEN: z.string().startsWith("gha_").optional(),
  /** Overrides the poll interval the API asks for (seconds). */
  GATEHOUSE_POLL_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).optional(),
  /** How long to wait for Gatekeeper to compile a template and establish its constraint CRD. */
  GATEHOUSE_TEMPLATE_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(600).default(60),
  /** An unchanged audit report is sent again after this long, so the API knows audit is alive. */
  GATEHOUSE_AUDIT_RESEND_SECONDS: z.coerce.number().int().min(10).max(86_400).default(600),
  /** Where /healthz, /readyz and /metrics listen. */
  GATEHOUSE_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9090),
  GATEHOUSE_HTTP_HOST: z.string().default("0.0.0.0"),
  GATEHOUSE_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Where Gatekeeper runs; its Deployment's image tag is reported as Gatekeeper's version. */
  GATEHOUSE_GATEKEEPER_NAMESPACE: z.string().default("gatekeeper-system"),
  /** Gatekeeper's --audit-interval (its default 60): an audit older than 3 of them is stale (degraded). */
  GATEHOUSE_GATEKEEPER_AUDIT_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /** Each watch's copy of the cluster is rebuilt from a LIST this often, whatever the events said. */
  GATEHOUSE_KUBE_RESYNC_SECONDS: z.coerce.number().int().min(60).max(86_400).default(1800),
  /** The Service in front of Gatekeeper's admission webhook (its Helm chart's name). */
  GATEHOUSE_GATEKEEPER_WEBHOOK_SERVICE: z.string().min(1).default("gatekeeper-webhook-service"),
});

export interface AgentConfig {
  apiUrl: string;
  token: () => string;
  pollIntervalSeconds?: number;
  templateTimeoutMs: number;
  auditResendMs: number;
  httpPort: number;
  httpHost: string;
  logLevel: z.output<typeof Env>["GATEHOUSE_LOG_LEVEL"];
  gatekeeperNamespace: string;
  gatekeeperAuditIntervalSeconds: number;
  gatekeeperWebhookService: string;
  resyncMs: number;
}

export function loadAgentConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid agent configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const fixed = e.GATEHOUSE_TOKEN;
  return {
    apiUrl: e.GATEHOUSE_API_URL.replace(/\/+$/, ""),
    token: fixed ? () => fixed : () => readFileSync(e.GATEHOUSE_TOKEN_FILE, "utf8").trim(),
    pollIntervalSeconds: e.GATEHOUSE_POLL_INTERVAL_SECONDS,
    templateTimeoutMs: e.GATEHOUSE_TEMPLATE_TIMEOUT_SECONDS * 1000,
    auditResendMs: e.GATEHOUSE_AUDIT_RESEND_SECONDS * 1000,
    httpPort: e.GATEHOUSE_HTTP_PORT,
    httpHost: e.GATEHOUSE_HTTP_HOST,
    logLevel: e.GATEHOUSE_LOG_LEVEL,
    gatekeeperNamespace: e.GATEHOUSE_GATEKEEPER_NAMESPACE,
    gatekeeperAuditIntervalSeconds: e.GATEHOUSE_GATEKEEPER_AUDIT_INTERVAL_SECONDS,
    gatekeeperWebhookService: e.GATEHOUSE_GATEKEEPER_WEBHOOK_SERVICE,
    resyncMs: e.GATEHOUSE_KUBE_RESYNC_SECONDS * 1000,
  };
}
