// One webhook attempt: the URL checked again (it may resolve elsewhere by now), the body signed
// per Standard Webhooks, POSTed with a timeout, the outcome reduced to status / error / latency.
// During a secret rotation's overlap the header carries two signatures, space-separated (the
// spec allows several): one with the new secret, one with the replaced one, so a receiver that
// has either verifies. A Slack-format endpoint gets a Slack incoming-webhook message made from the
// event instead of the envelope; it is signed the same way (Slack ignores the headers, a relay in
// front of it can verify them).
import { Webhook } from "standardwebhooks";
import type { WebhookConfig } from "../app/config.ts";
import type { WebhookFormat } from "../db/schema.ts";
import { slackMessage } from "./webhook-slack.ts";
import { checkWebhookUrl } from "./webhook-url.ts";

export interface Outgoing {
  id: string;
  url: string;
  payload: { type: string; version: number; timestamp: string; data: unknown };
  /** The secrets to sign with: the endpoint's, then (during an overlap) the one it replaced. */
  secrets: string[];
  /** The body: the standard envelope (default), or a Slack message made from it. */
  format?: WebhookFormat;
}

export interface Outcome {
  status: number | null;
  /** null: a 2xx answer. */
  error: string | null;
  latencyMs: number;
}

export interface SendOptions {
  config: WebhookConfig;
  fetch: typeof fetch;
  resolve?: (hostname: string) => Promise<string[]>;
  /** The webhook-timestamp header's clock. */
  signingNow: () => Date;
}

/** The webhook-signature header: one `v1,<base64>` per secret, space-separated. */
export function signatures(secrets: string[], id: string, at: Date, body: string): string {
  return secrets.map((s) => new Webhook(s).sign(id, at, body)).join(" ");
}

export async function sendWebhook(d: Outgoing, o: SendOptions): Promise<Outcome> {
  const start = performance.now();
  const refused = await checkWebhookUrl(d.url, { allowHttp: o.config.allowHttp, allowPrivate: o.config.allowPrivate, resolve: o.resolve });
  if (refused) return { status: null, error: `URL refused: ${refused}`, latencyMs: 0 };
  const { type, version, timestamp, data } = d.payload;
  const body = JSON.stringify(d.format === "slack" ? slackMessage(d.payload) : { type, version, timestamp, data });
  const sentAt = o.signingNow();
  // Called unbound: Workers' fetch refuses any other `this` ("Illegal invocation").
  const doFetch = o.fetch;
  try {
    const res = await doFetch(d.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "Gatehouse-Webhooks/1",
        "webhook-id": d.id,
        "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
        "webhook-signature": signatures(d.secrets, d.id, sentAt, body),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(o.config.timeoutMs),
    });
    // The body is not needed; drain it so the connection can be reused.
    await res.arrayBuffer().catch(() => {});
    const ok = res.status >= 200 && res.status < 300;
    return { status: res.status, error: ok ? null : `HTTP ${res.status}`, latencyMs: Math.round(performance.now() - start) };
  } catch (err) {
    const e = err as Error;
    const error =
      e.name === "TimeoutError"
        ? `timed out after ${o.config.timeoutMs} ms`
        : `${e.message}${(e.cause as Error | undefined)?.message ? `: ${(e.cause as Error).message}` : ""}`;
    return { status: null, error: error.slice(0, 1000), latencyMs: Math.round(performance.now() - start) };
  }
}
