// The fleet: every environment with its agent's state, its Gatekeeper's version and health,
// whether it runs the current revision, and its open violations by enforcement action; the
// tenant's compliance share; a label filter. Admins create environments (labels, optionally a
// preset) and get the agent's install manifest to copy or download.
import { useEffect, useState } from "preact/hooks";
import { all, ApiError, get, post, request } from "./api.js";
import { AGENT_STATE, downloadUrl, ErrorMessage, fieldId, html, isAdmin, PageTitle, relative } from "./ui.js";

const ACTIONS = ["deny", "warn", "dryrun"];

function Manifest({ env, onClose }) {
  const [yaml, setYaml] = useState(null);
  const [error, setError] = useState(null);
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    request("GET", `/v1/environments/${env.id}/agent-manifest`, { text: true }).then((r) => setYaml(r.text), setError);
  }, [env.id]);
  const copy = () =>
    navigator.clipboard?.writeText(yaml).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  return html`<section class="card" aria-labelledby="manifest-title">
    <h2 id="manifest-title">Agent install manifest: ${env.name}</h2>
    <p>Apply it with <code>kubectl apply -f</code>; it has no token Secret: create an agent credential for that (its manifest embeds the token, shown once).</p>
    <${ErrorMessage} error=${error} />
    ${
      yaml &&
      html`<div class="actions">
        <button type="button" onClick=${copy}>${copied ? "Copied" : "Copy"}</button>
        <a class="button" href=${downloadUrl(yaml)} download=${`gatehouse-agent-${env.name}.yaml`}>Download</a>
        <button type="button" class="secondary" onClick=${onClose}>Close</button>
      </div>
      <pre class="yaml" tabindex="0" aria-label="Agent install manifest">${yaml}</pre>`
    }
  </section>`;
}

function CreateEnvironment({ presets, onCreated }) {
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const body = { name: f.get("name").trim(), description: f.get("description").trim(), labels: parseLabels(f.get("labels")) };
    if (f.get("preset")) body.preset = f.get("preset");
    try {
      const env = await post("/v1/environments", body);
      e.target.reset();
      setErrors({});
      setError(null);
      onCreated(env);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setErrors(err.fieldErrors);
      setError(err.message);
    }
  }
  // The API names a bad label by its key (labels.<key>): shown under the one labels field.
  const labelError = Object.entries(errors)
    .filter(([p]) => p === "labels" || p.startsWith("labels."))
    .map(([p, m]) => (p === "labels" ? m : `${p.slice(7)}: ${m}`))
    .join("; ");
  const err = (name) => errors[name] && html`<p class="error" id=${`${fieldId(name)}-err`}>${errors[name]}</p>`;
  return html`<form class="card" onSubmit=${submit} aria-labelledby="create-title">
    <h2 id="create-title">New environment</h2>
    <div class="grid">
      <div><label for=${fieldId("name")}>Name</label>
        <input id=${fieldId("name")} name="name" required aria-invalid=${errors.name ? "true" : undefined} aria-describedby=${errors.name ? `${fieldId("name")}-err` : undefined} />${err("name")}</div>
      <div><label for="env-preset">Preset</label>
        <select id="env-preset" name="preset"><option value="">None (no controls)</option>
          ${presets.map((p) => html`<option value=${p.name}>${p.title}</option>`)}</select></div>
      <div><label for=${fieldId("labels")}>Labels <span class="hint">key=value, comma-separated</span></label>
        <input id=${fieldId("labels")} name="labels" placeholder="region=eu, tier=prod" aria-invalid=${labelError ? "true" : undefined} aria-describedby=${labelError ? `${fieldId("labels")}-err` : undefined} />
        ${labelError && html`<p class="error" id=${`${fieldId("labels")}-err`}>${labelError}</p>`}</div>
      <div class="wide"><label for=${fieldId("description")}>Description</label><input id=${fieldId("description")} name="description" />${err("description")}</div>
    </div>
    <${ErrorMessage} error=${error} />
    <button type="submit">Create environment</button>
  </form>`;
}

/** "region=eu, tier=prod" → {region: "eu", tier: "prod"}; a pair without "=" is a key with an empty value. */
function parseLabels(text) {
  const out = {};
  for (const pair of String(text ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = pair.indexOf("=");
    out[at === -1 ? pair : pair.slice(0, at).trim()] = at === -1 ? "" : pair.slice(at + 1).trim();
  }
  return out;
}

/** Gatekeeper's version as the agent last reported it, and why it is not healthy (degraded). */
function Gatekeeper({ agent }) {
  const g = agent.gatekeeper;
  const version = !g
    ? html`<span class="muted">unknown</span>`
    : g.installed
      ? html`<code>${g.version ?? "version unknown"}</code>`
      : html`<span class="error">not installed</span>`;
  const health =
    agent.state === "degraded"
      ? html`<ul class="reasons">${agent.degradedReasons.map((r) => html`<li class="warn">${r}</li>`)}</ul>`
      : g?.installed && agent.state === "online"
        ? html` <span class="ok">healthy</span>`
        : "";
  return html`${version}${health}`;
}

function Counts({ summary }) {
  if (!summary) return "…";
  if (summary.lastReportAt === null) return html`<span class="muted">no audit yet</span>`;
  if (summary.open === 0) return html`<span class="ok">none</span>`;
  return ACTIONS.filter((a) => summary.byEnforcementAction[a]).map((a) => html`<span class=${`badge ${a}`}>${summary.byEnforcementAction[a]} ${a}</span> `);
}

export function FleetPage({ session }) {
  const [envs, setEnvs] = useState(null);
  const [summaries, setSummaries] = useState({});
  const [tenant, setTenant] = useState(null);
  const [presets, setPresets] = useState([]);
  const [manifestFor, setManifestFor] = useState(null);
  const [label, setLabel] = useState("");
  const [error, setError] = useState(null);

  async function load() {
    try {
      const list = await all(`/v1/environments${label ? `?label=${encodeURIComponent(label)}` : ""}`);
      setEnvs(list);
      get("/v1/violations/summary").then(setTenant, () => {});
      const entries = await Promise.all(
        list.map((e) =>
          get(`/v1/environments/${e.id}/violations/summary`).then(
            (s) => [e.id, s],
            () => [e.id, null],
          ),
        ),
      );
      setSummaries(Object.fromEntries(entries));
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
    get("/v1/presets").then(setPresets, setError);
  }, [label]);

  const share = tenant?.environments.compliantShare;
  return html`<section>
    <${PageTitle}>Fleet</${PageTitle}>
    <p class="summary">${envs ? `${envs.length} environment${envs.length === 1 ? "" : "s"}` : "Loading…"}${tenant && ` · ${tenant.open} open violations · compliant: ${share === null ? "no reports yet" : `${Math.round(share * 100)}%`}`}</p>
    <form class="filter" onSubmit=${(e) => (e.preventDefault(), setLabel(new FormData(e.currentTarget).get("label").trim()))}>
      <label for="label-filter">Filter by label (key=value)</label>
      <input id="label-filter" name="label" placeholder="region=eu" /><button type="submit" class="secondary">Filter</button>
    </form>
    <${ErrorMessage} error=${error} />
    ${envs && envs.length === 0 && html`<p>No environments yet.${isAdmin(session) ? " Create one below." : ""}</p>`}
    ${
      envs &&
      envs.length > 0 &&
      html`<div class="table-wrap"><table>
      <caption class="visually-hidden">Environments</caption>
      <thead><tr><th scope="col">Environment</th><th scope="col">Agent</th><th scope="col">Gatekeeper</th><th scope="col">Revision</th><th scope="col">Open violations</th>${isAdmin(session) && html`<th scope="col">Agent manifest</th>`}</tr></thead>
      <tbody>${envs.map(
        (e) => html`<tr>
        <th scope="row"><a href=${`#/environments/${e.id}`}>${e.name}</a>${Object.entries(e.labels).map(([k, v]) => html` <span class="label">${k}=${v}</span>`)}</th>
        <td><span class=${`state ${e.agent.state}`}>${AGENT_STATE[e.agent.state]}</span>${e.agent.lastSeenAt && html` <span class="muted">${relative(e.agent.lastSeenAt)}</span>`}</td>
        <td><${Gatekeeper} agent=${e.agent} /></td>
        <td>${e.currentRevision} ${e.agent.state === "never_connected" ? "" : e.agent.inSync ? html`<span class="ok">in sync</span>` : html`<span class="warn">not in sync (applied ${e.agent.appliedRevision ?? "none"})</span>`}</td>
        <td><${Counts} summary=${summaries[e.id]} /></td>
        ${isAdmin(session) && html`<td><button type="button" class="secondary" onClick=${() => setManifestFor(e)}>Show manifest</button></td>`}
      </tr>`,
      )}</tbody></table></div>`
    }
    ${manifestFor && html`<${Manifest} env=${manifestFor} onClose=${() => setManifestFor(null)} />`}
    ${isAdmin(session) && html`<${CreateEnvironment} presets=${presets} onCreated=${(env) => (load(), setManifestFor(env))} />`}
  </section>`;
}
