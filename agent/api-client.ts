// The agent's side of the agent protocol (src/protocol/agent.ts): fetch the desired state with
// If-None-Match, post status and audit reports. Every failure is an ApiError, so the loop can fail
// static: keep what is applied and retry.
import type { AdmissionEvent } from "../src/protocol/admission.ts";
import { AGENT_PATHS, DesiredState, type AgentStatusReport, type AuditReport } from "../src/protocol/agent.ts";

const TIMEOUT_MS = 15_000;
// A 503 or 429 without a usable Retry-After waits this long; none waits longer than the cap.
const DEFAULT_RETRY_AFTER_S = 5;
const MAX_RETRY_AFTER_S = 300;

/** Retry-After (delta-seconds or an HTTP date) in seconds, capped; undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = /^\s*\d+\s*$/.test(header) ? Number(header) : (Date.parse(header) - now) / 1000;
  return Number.isFinite(s) ? Math.min(Math.max(s, 0), MAX_RETRY_AFTER_S) : undefined;
}

export class ApiError extends Error {
  /** HTTP status, or undefined when the API could not be reached at all. */
  readonly status: number | undefined;
  /** On 503 / 429: how long the API asked to be left alone (the client waits it out before its next call). */
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, status?: number, retryAfter?: number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.retryAfterSeconds = retryAfter;
  }
}

export type Fetched = { changed: false } | { changed: true; desired: DesiredState; etag: string | null };

export interface ApiClient {
  fetchDesired(etag: string | null): Promise<Fetched>;
  postStatus(report: AgentStatusReport): Promise<void>;
  postAuditReport(report: AuditReport): Promise<void>;
  postAdmissionEvents(events: AdmissionEvent[]): Promise<void>;
}

export function createApiClient(apiUrl: string, token: () => string, userAgent: string): ApiClient {
  // Backoff: after a 503 (the API's database out of connections) or a 429, no call leaves before
  // this instant — with up to 50 % jitter, so a fleet turned away together does not come back together.
  let notBefore = 0;
  async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
    const wait = notBefore - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    let res: Response;
    try {
      res = await fetch(apiUrl + path, {
        method,
        headers: {
          authorization: `Bearer ${token()}`,
          "user-agent": userAgent,
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
          ...init.headers,
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      const cause = e instanceof Error ? ((e.cause as Error | undefined)?.message ?? e.message) : String(e);
      throw new ApiError(`${method} ${path}: the API is unreachable (${cause})`);
    }
    if (res.status >= 400) {
      // Problem details carry a human detail; keep it for the logs and the status report.
      const text = await res.text().catch(() => "");
      let detail = text.slice(0, 500);
      try {
        detail = (JSON.parse(text) as { detail?: string }).detail ?? detail;
      } catch {}
      let retryAfter: number | undefined;
      if (res.status === 503 || res.status === 429) {
        retryAfter = retryAfterSeconds(res.headers.get("retry-after")) ?? DEFAULT_RETRY_AFTER_S;
        notBefore = Date.now() + retryAfter * 1000 * (1 + Math.random() / 2);
      }
      throw new ApiError(`${method} ${path}: ${res.status} ${detail}`, res.status, retryAfter);
    }
    return res;
  }

  return {
    async fetchDesired(etag) {
      const res = await call("GET", AGENT_PATHS.desiredState, { headers: etag ? { "if-none-match": etag } : {} });
      if (res.status === 304) return { changed: false };
      const parsed = DesiredState.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success)
        throw new ApiError(`GET ${AGENT_PATHS.desiredState}: the response is not a desired state (${parsed.error.issues[0]?.message})`, res.status);
      return { changed: true, desired: parsed.data, etag: res.headers.get("etag") };
    },
    async postStatus(report) {
      await (await call("POST", AGENT_PATHS.status, { body: report })).body?.cancel();
    },
    async postAuditReport(report) {
      await (await call("POST", AGENT_PATHS.auditReport, { body: report })).body?.cancel();
    },
    async postAdmissionEvents(events) {
      await (await call("POST", AGENT_PATHS.admissionEvents, { body: { events } })).body?.cancel();
    },
  };
}
