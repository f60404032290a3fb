// Admins only: API keys, agent credentials (agent-credentials.js) and webhook endpoints with their
// deliveries (each attempt, redeliver, ping). A new key's or endpoint's secret is shown once (with
// a copy button): the API stores only a hash and can never show it again.
import { useEffect, useState } from "preact/hooks";
import { AgentCredentials } from "./agent-credentials.js";
import { all, ApiError, get, openApiDocument, post, request } from "./api.js";
import { Secret } from "./secret.js";
import { dateTime, ErrorMessage, fieldId, html, isAdmin, PageTitle, relative } from "./ui.js";

function useCreate(path, onCreated) {
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  async function create(body, form) {
    try {
      const made = await post(path, body);
      form.reset();
      setErrors({});
      setError(null);
      onCreated(made);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setErrors(e.fieldErrors);
      setError(e.message);
    }
  }
  return { errors, error, create };
}

const errorAt = (errors, name) => errors[name] && html`<p class="error field-error" id=${`${fieldId(name)}-err`}>${errors[name]}</p>`;

function ApiKeys() {
  const [keys, setKeys] = useState(null);
  const [fresh, setFresh] = useState(null);
  const load = () => all("/v1/api-keys").then(setKeys);
  useEffect(() => void load(), []);
  const { errors, error, create } = useCreate("/v1/api-keys", (k) => (setFresh(k), load()));
  const submit = (e) => (
    e.preventDefault(), create({ name: new FormData(e.currentTarget).get("name").trim(), role: new FormData(e.currentTarget).get("role") }, e.currentTarget)
  );
  return html`<section class="card" aria-labelledby="keys-title">
    <h2 id="keys-title">API keys</h2>
    ${fresh && html`<${Secret} label=${`API key “${fresh.name}”`} secret=${fresh.secret} />`}
    ${
      keys &&
      html`<div class="table-wrap"><table><caption class="visually-hidden">API keys</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Prefix</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
      <tbody>${keys.map(
        (
          k,
        ) => html`<tr><th scope="row">${k.name}</th><td>${k.role}</td><td><code>${k.prefix}</code></td><td>${k.lastUsedAt ? relative(k.lastUsedAt) : "never"}</td>
        <td>${k.revokedAt ? `revoked ${dateTime(k.revokedAt)}` : html`<button type="button" class="secondary" onClick=${() => request("DELETE", `/v1/api-keys/${k.id}`).then(load)}>Revoke ${k.name}</button>`}</td></tr>`,
      )}</tbody></table></div>`
    }
    <form class="filter" onSubmit=${submit}>
      <label for=${fieldId("name")}>Key name</label><input id=${fieldId("name")} name="name" required aria-invalid=${errors.name ? "true" : undefined} />
      <label for="key-role">Role</label><select id="key-role" name="role"><option>viewer</option><option>editor</option><option>admin</option></select>
      <button type="submit">Create API key</button>
    </form>${errorAt(errors, "name")}<${ErrorMessage} error=${error} />
  </section>`;
}

function Attempts({ endpoint, delivery }) {
  const [d, setD] = useState(null);
  useEffect(() => {
    get(`/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}`).then(setD, () => {});
  }, [delivery.id, delivery.attempts]);
  if (!d) return null;
  if (d.attemptLog.length === 0) return html`<p class="muted">No attempt yet.</p>`;
  return html`<ol class="attempts">${d.attemptLog.map((a) => html`<li>attempt ${a.attempt} · ${dateTime(a.at)} · ${a.statusCode ? `HTTP ${a.statusCode}` : "no response"} · ${a.latencyMs} ms${a.error ? ` · ${a.error}` : ""}</li>`)}</ol>`;
}

function Deliveries({ endpoint }) {
  const [items, setItems] = useState(null);
  const [open, setOpen] = useState({});
  const [error, setError] = useState(null);
  const load = () => get(`/v1/webhooks/${endpoint.id}/deliveries?limit=20`).then((p) => setItems(p.items));
  useEffect(() => {
    load();
    const t = setInterval(load, 2000); // the dispatcher sends in the background
    return () => clearInterval(t);
  }, [endpoint.id]);
  const redeliver = (d) => post(`/v1/webhooks/${endpoint.id}/deliveries/${d.id}/redeliver`).then(() => (setError(null), load()), setError);
  if (!items) return null;
  if (items.length === 0) return html`<p class="muted">No deliveries yet.</p>`;
  return html`<${ErrorMessage} error=${error} /><ul class="plain deliveries">${items.map(
    (
      d,
    ) => html`<li><code>${d.eventType}</code> · <span class=${d.state === "succeeded" ? "ok" : d.state === "failed" ? "error" : "warn"}>${d.state}</span> · ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}${d.lastStatus ? ` · HTTP ${d.lastStatus}` : ""}${d.lastError ? ` · ${d.lastError}` : ""} · ${relative(d.createdAt)}
    <span class="actions">
      <button type="button" class="secondary" aria-expanded=${!!open[d.id]} onClick=${() => setOpen({ ...open, [d.id]: !open[d.id] })}>${open[d.id] ? "Hide attempts" : "Show attempts"}</button>
      ${d.state !== "pending" && html`<button type="button" class="secondary" onClick=${() => redeliver(d)}>Redeliver</button>`}
    </span>
    ${open[d.id] && html`<${Attempts} endpoint=${endpoint} delivery=${d} />`}</li>`,
  )}</ul>`;
}

function Webhooks() {
  const [hooks, setHooks] = useState(null);
  const [fresh, setFresh] = useState(null);
  const [pinged, setPinged] = useState({});
  const [events, setEvents] = useState([]);
  // The event types from the API's own schema: a new event needs no console change.
  useEffect(() => void openApiDocument().then((d) => setEvents(d.components.schemas.WebhookEventType?.enum ?? [])), []);
  const load = () => all("/v1/webhooks").then(setHooks);
  useEffect(() => void load(), []);
  const { errors, error, create } = useCreate("/v1/webhooks", (w) => (setFresh(w), load()));
  function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    create({ url: f.get("url").trim(), events: f.getAll("events") }, e.currentTarget);
  }
  return html`<section class="card" aria-labelledby="hooks-title">
    <h2 id="hooks-title">Webhooks</h2>
    ${fresh && html`<${Secret} label=${`Signing secret of ${fresh.url}`} secret=${fresh.secret} />`}
    ${hooks?.length === 0 && html`<p class="muted">No endpoints.</p>`}
    ${hooks?.map(
      (w) => html`<article class="hook" aria-label=${`Webhook ${w.url}`}>
      <h3><code>${w.url}</code> ${w.failing && html`<span class="error">failing</span>`}${!w.enabled && html` <span class="muted">disabled</span>`}</h3>
      <p>${w.events.join(", ")}</p>
      <button type="button" class="secondary" onClick=${() => post(`/v1/webhooks/${w.id}/ping`).then(() => setPinged({ ...pinged, [w.id]: (pinged[w.id] ?? 0) + 1 }))}>Send a ping</button>
      <${Deliveries} key=${`${w.id}-${pinged[w.id] ?? 0}`} endpoint=${w} />
    </article>`,
    )}
    <form onSubmit=${submit}>
      <label for=${fieldId("url")}>Endpoint URL</label>
      <input id=${fieldId("url")} name="url" type="url" required placeholder="https://hooks.example.com/gatehouse" aria-invalid=${errors.url ? "true" : undefined} />${errorAt(errors, "url")}
      <fieldset class="choices"><legend>Events</legend>
        ${events.map((ev) => html`<span class="check"><input type="checkbox" name="events" value=${ev} id=${`ev-${fieldId(ev)}`} checked=${ev === "violation.opened"} /><label for=${`ev-${fieldId(ev)}`}>${ev}</label></span>`)}
      </fieldset>${errorAt(errors, "events")}
      <button type="submit">Create webhook</button>
    </form><${ErrorMessage} error=${error} />
  </section>`;
}

export function AdminPage({ session }) {
  if (!isAdmin(session))
    return html`<section><${PageTitle}>Administration</${PageTitle}><p>Only admins manage API keys, agent credentials and webhooks.</p></section>`;
  return html`<section><${PageTitle}>Administration</${PageTitle}><${ApiKeys} /><${AgentCredentials} /><${Webhooks} /></section>`;
}
