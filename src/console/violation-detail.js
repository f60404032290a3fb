// Two views of the violation history beside the list: the daily trend (GET /v1/violations/trend,
// drawn as an SVG bar chart of what was open at the end of each day, with the numbers in a table
// for screen readers and anyone who wants them), and one violation with every opening and
// resolution (GET /v1/violations/{id}); another tenant's id is a 404 there, so "Not found".
import { useEffect, useState } from "preact/hooks";
import { ApiError, get } from "./api.js";
import { dateTime, ErrorMessage, html, NotFound, PageTitle, relative } from "./ui.js";

const W = 720;
const H = 160;
const PAD = 24;

export function TrendChart({ environment }) {
  const [days, setDays] = useState(30);
  const [trend, setTrend] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    const q = new URLSearchParams({ days: String(days) });
    if (environment) q.set("environment", environment);
    get(`/v1/violations/trend?${q}`).then((t) => (setTrend(t.days), setError(null)), setError);
  }, [days, environment]);

  const max = Math.max(1, ...(trend ?? []).map((d) => d.open));
  const step = trend ? (W - PAD) / trend.length : 0;
  const y = (n) => H - PAD - (n / max) * (H - 2 * PAD);
  const opened = trend?.reduce((n, d) => n + d.opened, 0) ?? 0;
  const resolved = trend?.reduce((n, d) => n + d.resolved, 0) ?? 0;
  const last = trend?.at(-1);
  const label = trend && `Open violations per day over the last ${days} days: ${last.open} open today, ${opened} opened and ${resolved} resolved in that time.`;
  return html`<section class="card trend" aria-labelledby="trend-title">
    <div class="control-head"><h2 id="trend-title">Trend</h2>
      <span class="mode"><label for="trend-days">Days shown</label><select id="trend-days" value=${days} onChange=${(e) => setDays(Number(e.currentTarget.value))}>
        ${[7, 30, 90].map((d) => html`<option value=${d}>${d}</option>`)}</select></span></div>
    <${ErrorMessage} error=${error} />
    ${
      trend &&
      html`<figure>
      <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${label} class="chart">
        <line x1=${PAD} y1=${H - PAD} x2=${W} y2=${H - PAD} class="axis" />
        <text x="0" y=${y(max) + 4} class="tick">${max}</text><text x="0" y=${H - PAD + 4} class="tick">0</text>
        ${trend.map((d, i) => html`<rect x=${PAD + i * step + 1} y=${y(d.open)} width=${Math.max(1, step - 2)} height=${H - PAD - y(d.open)} class="bar"><title>${d.date}: ${d.open} open, ${d.opened} opened, ${d.resolved} resolved</title></rect>`)}
        <text x=${PAD} y=${H - 6} class="tick">${trend[0].date}</text><text x=${W} y=${H - 6} text-anchor="end" class="tick">${last.date}</text>
      </svg>
      <figcaption class="muted">${label}</figcaption>
    </figure>
    <details><summary>The numbers per day</summary><div class="table-wrap"><table>
      <caption class="visually-hidden">Violations per day</caption>
      <thead><tr><th scope="col">Day (UTC)</th><th scope="col">Opened</th><th scope="col">Resolved</th><th scope="col">Open at its end</th></tr></thead>
      <tbody>${trend.map((d) => html`<tr><th scope="row">${d.date}</th><td>${d.opened}</td><td>${d.resolved}</td><td>${d.open}</td></tr>`)}</tbody>
    </table></div></details>`
    }
  </section>`;
}

export function ViolationPage({ id }) {
  const [v, setV] = useState(null);
  const [env, setEnv] = useState(null);
  const [state, setState] = useState({});
  useEffect(() => {
    get(`/v1/violations/${encodeURIComponent(id)}`)
      .then((x) => (setV(x), get(`/v1/environments/${x.environmentId}`).then(setEnv, () => {})))
      .catch((e) => setState(e instanceof ApiError && (e.status === 404 || e.status === 400) ? { notFound: true } : { error: e }));
  }, [id]);
  if (state.notFound) return html`<${NotFound} what="violation" />`;
  if (state.error) return html`<${ErrorMessage} error=${state.error} />`;
  if (!v) return html`<p>Loading…</p>`;
  const r = v.resource;
  return html`<section>
    <${PageTitle}>Violation: ${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}</${PageTitle}>
    <p><a href="#/violations">All violations</a></p>
    <dl class="card facts">
      <dt>Environment</dt><dd><a href=${`#/environments/${v.environmentId}`}>${env?.name ?? v.environmentId}</a></dd>
      <dt>Control</dt><dd>${v.control ?? html`<span class="muted">none</span>`} <span class="muted">(${v.constraint.kind} ${v.constraint.name})</span></dd>
      <dt>Enforcement action</dt><dd><span class=${`badge ${v.enforcementAction}`}>${v.enforcementAction}</span></dd>
      <dt>State</dt><dd>${v.state}${v.resolvedAt && ` since ${dateTime(v.resolvedAt)}`}</dd>
      <dt>Message</dt><dd>${v.message}</dd>
      <dt>First seen</dt><dd>${dateTime(v.firstSeenAt)} · last seen ${relative(v.lastSeenAt)}</dd>
      <dt>Occurrences</dt><dd>${v.occurrences}</dd>
    </dl>
    <h2>Openings and resolutions</h2>
    <ol class="timeline">${v.history.map((e) => html`<li><span class=${e.type === "opened" ? "error" : "ok"}>${e.type === "opened" ? "Opened" : "Resolved"}</span> <time datetime=${e.at}>${dateTime(e.at)}</time> <span class="muted">(${relative(e.at)})</span></li>`)}</ol>
  </section>`;
}
