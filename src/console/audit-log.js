// Admins only: the tenant's audit log (GET /v1/audit-log), newest first — who changed what, with
// each entry's changes one click away; filters (action or action prefix*, actor, target type, a
// date range) and paging through the API's cursors (a stack of them, so "Newer" goes back).
import { useEffect, useState } from "preact/hooks";
import { ApiError, get } from "./api.js";
import { dateTime, ErrorMessage, fieldId, html, isAdmin, PageTitle, relative } from "./ui.js";

const PAGE = 25;
const KEYS = ["action", "actor", "targetType", "since", "until"];
const short = (v) => (v === undefined ? "(none)" : JSON.stringify(v).slice(0, 160));

function Entry({ e }) {
  const [open, setOpen] = useState(false);
  return html`<tr>
    <td><time datetime=${e.createdAt} title=${relative(e.createdAt)}>${dateTime(e.createdAt)}</time></td>
    <td>${e.actor}</td><th scope="row"><code>${e.action}</code></th>
    <td>${e.targetType}${e.targetId && html` <code class="muted">${e.targetId}</code>`}</td>
    <td>${
      e.changes.length === 0
        ? html`<span class="muted">none</span>`
        : html`<button type="button" class="secondary" aria-expanded=${open} onClick=${() => setOpen(!open)}>
        ${open ? "Hide" : "Show"} ${e.changes.length} change${e.changes.length === 1 ? "" : "s"}</button>
      ${open && html`<ul class="changes">${e.changes.map((c) => html`<li><code>${c.path}</code>: ${short(c.before)} → ${short(c.after)}</li>`)}</ul>`}`
    }</td>
  </tr>`;
}

export function AuditLogPage({ session }) {
  const [filters, setFilters] = useState({});
  const [cursors, setCursors] = useState([null]); // the cursor of each page seen so far
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const [errors, setErrors] = useState({});
  const cursor = cursors[cursors.length - 1];

  useEffect(() => {
    if (!isAdmin(session)) return;
    const q = new URLSearchParams(Object.entries(filters).filter(([, v]) => v));
    q.set("limit", String(PAGE));
    if (cursor) q.set("cursor", cursor);
    get(`/v1/audit-log?${q}`).then(
      (p) => (setPage(p), setError(null), setErrors({})),
      (e) => (setPage({ items: [], nextCursor: null }), setError(e), setErrors(e instanceof ApiError ? e.fieldErrors : {})),
    );
  }, [filters, cursor]);

  if (!isAdmin(session)) return html`<section><${PageTitle}>Audit log</${PageTitle}><p>Only admins read the audit log.</p></section>`;

  function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const next = Object.fromEntries(KEYS.map((k) => [k, String(f.get(k) ?? "").trim()]));
    for (const k of ["since", "until"]) if (next[k]) next[k] = new Date(next[k]).toISOString();
    setCursors([null]);
    setFilters(next);
  }
  const field = (name, label, attrs = {}) => html`<div><label for=${fieldId(`audit.${name}`)}>${label}</label>
    <input id=${fieldId(`audit.${name}`)} name=${name} ...${attrs} aria-invalid=${errors[name] ? "true" : undefined} aria-describedby=${errors[name] ? `${fieldId(`audit.${name}`)}-err` : undefined} />
    ${errors[name] && html`<p class="error field-error" id=${`${fieldId(`audit.${name}`)}-err`}>${errors[name]}</p>`}</div>`;
  return html`<section>
    <${PageTitle}>Audit log</${PageTitle}>
    <form class="card filters" onSubmit=${submit} aria-label="Filter the audit log">
      ${field("action", "Action", { placeholder: "settings.*" })}
      ${field("actor", "Actor", { placeholder: "alice@example.com" })}
      ${field("targetType", "Target type", { placeholder: "environment" })}
      ${field("since", "From", { type: "date" })}
      ${field("until", "Before", { type: "date" })}
      <div><button type="submit">Apply filters</button></div>
    </form>
    <${ErrorMessage} error=${error} />
    ${
      page === null
        ? html`<p>Loading…</p>`
        : page.items.length === 0
          ? html`<p>No entries match.</p>`
          : html`<div class="table-wrap"><table>
      <caption class="visually-hidden">Audit log, page ${cursors.length}</caption>
      <thead><tr><th scope="col">When</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Changes</th></tr></thead>
      <tbody>${page.items.map((e) => html`<${Entry} key=${e.id} e=${e} />`)}</tbody></table></div>`
    }
    <nav class="actions" aria-label="Pages">
      <button type="button" class="secondary" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>Newer entries</button>
      <span class="muted">Page ${cursors.length}</span>
      <button type="button" class="secondary" disabled=${!page?.nextCursor} onClick=${() => setCursors([...cursors, page.nextCursor])}>Older entries</button>
    </nav>
  </section>`;
}
