// The agent's side of the agent protocol (src/protocol/agent.ts): fetch the desired state with
// If-None-Match, post status and audit reports. Every failure is an ApiError, so the loop can fail
// static: keep what is applied and retry.
import type { AdmissionEvent } from "../src/protocol/admission.ts";
import { AGENT_PATHS, DesiredState, type AgentStatusReport, type AuditReport } from "../src/protocol/agent.ts";

const TIMEOUT_MS = 15_000;

export class ApiError extends Error {
  /** HTTP status, or undefined when the API could not be reached at all. */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = "ApiError";
    this.status = status;
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
  async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
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
      throw new ApiError(`${method} ${path}: ${res.status} ${detail}`, res.status);
    }
    return res;
  }

  return {
    async fetchDesired(etag) {
      const res = await call("GET", AGENT_PATHS.desiredState, { headers: etag ? { "if-none-match": etag } : {} });
      if (res.status === 304) return { changed: false };
      const parsed = DesiredState.safeParse(await res.json().catch(() => undefined));
      if (!parsed.success) throw new ApiError(`GET ${AGENT_PATHS.desiredState}: the response is not a desired state (${parsed.error.issues[0]?.message})`, res.status);
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
