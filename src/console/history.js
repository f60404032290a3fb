// History of one environment's settings: every revision with its author, comment and the paths it
// changed (the API's diff against the revision before), and rollback (a new revision equal to an
// old one) for editors.
import { useEffect, useRef, useState } from "preact/hooks";
import { all, ApiError, get, post } from "./api.js";
import { canEdit, dateTime, ErrorMessage, html, NotFound, PageTitle, relative } from "./ui.js";

export function EnvironmentNav({ id, current }) {
  const link = (page, href, label) => html`<a href=${href} aria-current=${current === page ? "page" : undefined}>${label}</a>`;
  return html`<nav class="subnav" aria-label="Environment">
    ${link("settings", `#/environments/${id}`, "Security constraints")}
    ${link("history", `#/environments/${id}/history`, "History")}
    ${link("drafts", `#/environments/${id}/drafts`, "Drafts and preview")}
    <a href="#/">All environments</a>
  </nav>`;
}

const short = (v) => (v === undefined ? "(none)" : JSON.stringify(v).slice(0, 160));

function Changes({ path, rev }) {
  const [diff, setDiff] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    get(`${path}/settings/diff?from=${rev - 1}&to=${rev}`).then(setDiff, setError);
  }, [rev]);
  if (error) return html`<${ErrorMessage} error=${error} />`;
  if (!diff) return html`<p>Loading…</p>`;
  if (diff.changes.length === 0) return html`<p class="muted">No change.</p>`;
  return html`<ul class="changes">${diff.changes.map((c) => html`<li><code>${c.path}</code>: ${short(c.before)} → ${short(c.after)}</li>`)}</ul>`;
}

export function HistoryPage({ id, session }) {
  const [env, setEnv] = useState(null);
  const [revisions, setRevisions] = useState(null);
  const [open, setOpen] = useState({});
  const [error, setError] = useState(null);
  const [notFound, setNotFound] = useState(false);
  const [status, setStatus] = useState(null);
  const statusRef = useRef(null);
  const path = `/v1/environments/${encodeURIComponent(id)}`;

  const load = () => all(`${path}/settings/revisions`).then(setRevisions, setError);
  useEffect(() => {
    get(path).then(
      (e) => (setEnv(e), load()),
      (e) => (e instanceof ApiError && (e.status === 404 || e.status === 400) ? setNotFound(true) : setError(e)),
    );
  }, [id]);
  useEffect(() => {
    if (status) statusRef.current?.focus();
  }, [status]);

  async function rollback(rev) {
    setError(null);
    try {
      const r = await post(`${path}/settings/revisions/${rev}/rollback`, { comment: `rollback to revision ${rev}` });
      setStatus(`Rolled back: revision ${r.revision} has the settings of revision ${rev}.`);
      load();
    } catch (e) {
      setError(e);
    }
  }

  if (notFound) return html`<${NotFound} what="environment" />`;
  return html`<section>
    <${PageTitle}>History${env && `: ${env.name}`}</${PageTitle}>
    <${EnvironmentNav} id=${id} current="history" />
    <p class="status" role="status" tabindex="-1" ref=${statusRef}>${status}</p>
    <${ErrorMessage} error=${error} />
    ${
      !revisions
        ? html`<p>Loading…</p>`
        : html`<ol class="revisions plain">${revisions.map(
            (r, i) => html`<li class="card">
      <h2 class="rev-title">Revision ${r.revision}${i === 0 && html` <span class="ok">current</span>`}</h2>
      <p>${r.author} · <time datetime=${r.createdAt} title=${dateTime(r.createdAt)}>${relative(r.createdAt)}</time>${r.comment && html` — “${r.comment}”`}</p>
      <div class="actions">
        ${
          r.revision > 1 &&
          html`<button type="button" class="secondary" aria-expanded=${!!open[r.revision]} onClick=${() => setOpen({ ...open, [r.revision]: !open[r.revision] })}>
          ${open[r.revision] ? "Hide changes" : "Show changes"}</button>`
        }
        ${canEdit(session) && i > 0 && html`<button type="button" onClick=${() => rollback(r.revision)}>Roll back to revision ${r.revision}</button>`}
      </div>
      ${open[r.revision] && html`<${Changes} path=${path} rev=${r.revision} />`}
    </li>`,
          )}</ol>`
    }
  </section>`;
}
