// The Slack format: an endpoint with `format: "slack"` receives, instead of the standard JSON
// envelope, a Slack incoming-webhook message ({"text", "blocks"}: text is the notification and
// fallback, blocks what the channel shows), made from the same event at send time — so the
// outbox keeps one payload shape and a redelivery after a format change uses the new format.
// Slack's mrkdwn needs &, < and > escaped; a message shows at most SLACK_LINES violations.

/** Violations listed in one message; the count and the link cover the rest. */
export const SLACK_LINES = 10;

interface Payload {
  type: string;
  timestamp: string;
  data: unknown;
}
type Obj = Record<string, unknown>;

export interface SlackMessage {
  text: string;
  blocks: Obj[];
}

const esc = (s: unknown) =>
  String(s ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
const section = (text: string): Obj => ({ type: "section", text: { type: "mrkdwn", text: text.slice(0, 3000) } });
const context = (text: string): Obj => ({ type: "context", elements: [{ type: "mrkdwn", text: text.slice(0, 3000) }] });

/** One line about a violation: action, control, resource, message. */
function violationLine(v: Obj): string {
  const r = (v.resource ?? {}) as Obj;
  const where = r.namespace ? `${esc(r.namespace)}/${esc(r.name)}` : esc(r.name);
  return `• \`${esc(v.enforcementAction)}\` ${esc(v.control ?? (v.constraint as Obj | undefined)?.name)} — ${esc(r.kind)} ${where}: ${esc(String(v.message ?? "").slice(0, 200))}`;
}

function digest(d: Obj, envName: string): SlackMessage {
  const counts = (d.counts ?? {}) as Record<string, number>;
  const parts = (["opened", "resolved", "updated"] as const).filter((k) => counts[k]).map((k) => `${counts[k]} ${k}`);
  const text = `Gatehouse: ${envName}: ${parts.join(", ") || "no changes"} (audit of ${esc(d.collectedAt)})`;
  const blocks: Obj[] = [section(`*${envName}*: violations ${parts.join(", ")}`)];
  let shown = 0;
  for (const k of ["opened", "resolved", "updated"] as const) {
    const items = ((d[k] as Obj[] | undefined) ?? []).slice(0, Math.max(0, SLACK_LINES - shown));
    if (!items.length) continue;
    shown += items.length;
    blocks.push(section(`*${k}*\n${items.map(violationLine).join("\n")}`));
  }
  const total = parts.length ? Object.values(counts).reduce((a, b) => a + b, 0) : 0;
  if (total > shown) blocks.push(context(d.more ? `${total - shown} more: <${String(d.more)}|the full list>` : `${total - shown} more`));
  return { text, blocks };
}

export function slackMessage(p: Payload): SlackMessage {
  const d = (p.data ?? {}) as Obj;
  const env = (d.environment ?? {}) as Obj;
  const envName = esc(env.name ?? "");
  if (p.type === "violations.changed") return digest(d, envName);
  let text: string;
  switch (p.type) {
    case "violation.opened":
    case "violation.resolved":
    case "violation.updated":
      text = `${envName}: violation ${p.type.slice("violation.".length)}\n${violationLine((d.violation ?? {}) as Obj)}`;
      break;
    case "admission.denied":
    case "admission.warned": {
      const x = (d.denial ?? {}) as Obj;
      const w = (x.workload ?? {}) as Obj;
      text = `${envName}: admission ${p.type === "admission.denied" ? "denied" : "warned"}: ${esc(w.kind)} ${esc(x.namespace)}/${esc(w.name)}: ${esc(String(x.message ?? "").slice(0, 200))}`;
      break;
    }
    case "environment.offline":
      text = `${envName}: the agent is offline (last seen ${esc(d.lastSeenAt)})`;
      break;
    case "environment.online":
      text = `${envName}: the agent is back (silent since ${esc(d.silentSince)})`;
      break;
    case "environment.degraded":
      text = `${envName}: Gatekeeper is not working: ${((d.reasons as unknown[]) ?? []).map(esc).join("; ")}`;
      break;
    case "environment.recovered":
      text = `${envName}: Gatekeeper works again`;
      break;
    case "settings.applied":
      text = `${envName}: revision ${esc(d.revision)} applied`;
      break;
    case "webhook.ping":
      text = "Gatehouse: test message (webhook.ping)";
      break;
    default:
      text = `${envName ? `${envName}: ` : ""}${esc(p.type)}`;
  }
  return { text: `Gatehouse: ${text.split("\n")[0]}`, blocks: [section(text), context(`${esc(p.type)} · ${esc(p.timestamp)}`)] };
}
