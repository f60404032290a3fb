// The agent's side of the agent protocol (src/protocol/agent.ts): fetch the desired state with
// If-None-Match, post status and audit reports. Every failure is an ApiError, so the loop can fail
// static: keep what is applied and retry.
//
// On node:http(s), not fetch: the first fetch loads undici and its WebAssembly HTTP parser, ~13 MiB
// of RSS that stays (measured: 20 requests by fetch +15.6 MiB, by node:http +2.3 MiB), in an agent
// whose budget is 100 MiB; node:http's parser is native and already loaded for kube-client.ts.
import http from "node:http";
import https from "node:https";
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

/** A response, read whole (the API's bodies are small: a desired state, a problem). */
interface Answer {
  status: number;
  header(name: string): string | null;
  text: string;
}

export function createApiClient(apiUrl: string, token: () => string, userAgent: string): ApiClient {
  const base = new URL(apiUrl);
  const secure = base.protocol === "https:";
  // Keep-alive: the poll reuses its connection, as fetch did.
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const prefix = base.pathname.replace(/\/+$/, "");
  // Backoff: after a 503 (the API's database out of connections) or a 429, no call leaves before
  // this instant — with up to 50 % jitter, so a fleet turned away together does not come back together.
  let notBefore = 0;

  const send = (method: string, path: string, headers: http.OutgoingHttpHeaders, body: string | undefined) =>
    new Promise<Answer>((resolve, reject) => {
      const req = (secure ? https : http).request(
        {
          protocol: base.protocol,
          hostname: base.hostname.replace(/^\[|\]$/g, ""),
          port: base.port,
          path: prefix + path,
          method,
          headers,
          agent,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const h = res.headers;
            resolve({
              status: res.statusCode ?? 0,
              header: (name) => {
                const v = h[name.toLowerCase()];
                return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
              },
              text: Buffer.concat(chunks).toString("utf8"),
            });
          });
        },
      );
      req.on("error", (e) => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
      req.end(body);
    });

  async function call(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const wait = notBefore - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers: http.OutgoingHttpHeaders = { authorization: `Bearer ${token()}`, "user-agent": userAgent, accept: "application/json", ...init.headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    let res: Answer;
    try {
      res = await send(method, path, headers, body).catch((e: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
        // A kept-alive connection the server closed just as this request went out: sent again
        // once on a new one (Node's documented remedy; nothing reached the API).
        if (e.reusedSocket && e.code === "ECONNRESET") return send(method, path, headers, body);
        throw e;
      });
    } catch (e) {
      const cause = e instanceof Error ? e.message : String(e);
      throw new ApiError(`${method} ${path}: the API is unreachable (${cause})`);
    }
    if (res.status >= 400) {
      // Problem details carry a human detail; keep it for the logs and the status report.
      let detail = res.text.slice(0, 500);
      try {
        detail = (JSON.parse(res.text) as { detail?: string }).detail ?? detail;
      } catch {}
      let retryAfter: number | undefined;
      if (res.status === 503 || res.status === 429) {
        retryAfter = retryAfterSeconds(res.header("retry-after")) ?? DEFAULT_RETRY_AFTER_S;
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
      let json: unknown;
      try {
        json = JSON.parse(res.text);
      } catch {}
      const parsed = DesiredState.safeParse(json);
      if (!parsed.success)
        throw new ApiError(`GET ${AGENT_PATHS.desiredState}: the response is not a desired state (${parsed.error.issues[0]?.message})`, res.status);
      return { changed: true, desired: parsed.data, etag: res.header("etag") };
    },
    async postStatus(report) {
      await call("POST", AGENT_PATHS.status, { body: report });
    },
    async postAuditReport(report) {
      // Without Prefer: respond-async, so the loop waits for the 204 (applied), until bench:fleet
      // shows the 202 holds a fleet better (README, Benchmarks: not decided yet).
      await call("POST", AGENT_PATHS.auditReport, { body: report });
    },
    async postAdmissionEvents(events) {
      await call("POST", AGENT_PATHS.admissionEvents, { body: { events } });
    },
  };
}
