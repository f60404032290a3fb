// Drafts and preview for one environment (/v1/environments/{id}/drafts): proposed settings that
// run in the cluster as dryrun shadows, and what Gatekeeper's audit of them found — per control,
// how many findings, which objects (new, or already violating the current settings), "not yet
// evaluated" until the audit after the draft's last change, and when the list is truncated.
// Editors create drafts (from a preset, or the current settings — the settings page also saves
// its unsaved edits as one), promote one (If-Match; a draft based on an older revision is a 412
// that lists what changed since, and "Rebase" lays the draft's edits over the current revision)
// and delete them. Viewers read.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, post, request } from "./api.js";
import { EnvironmentNav } from "./history.js";
import { reapply } from "./settings.js";
import { canEdit, dateTime, ErrorMessage, html, humanize, NotFound, PageTitle, relative } from "./ui.js";

const short = (v) => (v === undefined ? "(none)" : JSON.stringify(v).slice(0, 120));

function ControlPreview({ c }) {
  const title = `${humanize(c.control)} · would ${c.enforcementAction}`;
  return html`<section class="preview-control" aria-label=${`Preview of ${humanize(c.control)}`}>
    <h4>${title}</h4>
    ${
      !c.evaluated
        ? html`<p class="muted">Not yet evaluated: Gatekeeper has not audited this control's shadow constraint since the draft last changed.</p>`
        : html`<p><strong>${c.totalViolations} finding${c.totalViolations === 1 ? "" : "s"}</strong> · ${c.new} new · ${c.alreadyViolating} already violating · <span class="muted">audited ${relative(c.auditTimestamp)}</span></p>
        ${c.truncated && html`<p class="warn">Only the first ${c.violations.length} objects are listed (Gatekeeper's --constraint-violations-limit); the count above is exact.</p>`}
        ${
          c.violations.length > 0 &&
          html`<ul class="plain objects">${c.violations.map(
            (v) => html`<li>
          <span class=${`badge ${v.alreadyViolating ? "dryrun" : "deny"}`}>${v.alreadyViolating ? "already violating" : "new"}</span> ${v.kind} ${v.namespace ? `${v.namespace}/` : ""}${v.name}: <span class="muted">${v.message}</span></li>`,
          )}</ul>`
        }`
    }
  </section>`;
}

function Preview({ path, draft }) {
  const [p, setP] = useState(null);
  const [error, setError] = useState(null);
  const [asked, setAsked] = useState(0);
  useEffect(() => {
    get(`${path}/drafts/${draft.id}/preview`).then((x) => (setP(x), setError(null)), setError);
  }, [draft.id, draft.version, asked]);
  if (error) return html`<${ErrorMessage} error=${error} />`;
  if (!p) return html`<p>Loading the preview…</p>`;
  // The preview changes only when the agent reports Gatekeeper's next audit: fetched again on demand.
  const refresh = html`<button type="button" class="secondary" onClick=${() => setAsked(asked + 1)}>Refresh preview</button>`;
  if (p.controls.length === 0) return html`<p class="muted">The draft enables no control: nothing to preview.</p>`;
  return html`<div class="preview">
    <p class="muted">${p.collectedAt ? `From the agent's audit report of ${dateTime(p.collectedAt)}.` : "No audit report since the draft was made: the agent has not reported Gatekeeper's audit of its shadows yet."} ${refresh}</p>
    ${p.controls.map((c) => html`<${ControlPreview} c=${c} />`)}
  </div>`;
}

function Stale({ stale, onRebase, busy }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  return html`<div class="card conflict" role="group" aria-labelledby=${`stale-${stale.draftId}`}>
    <h4 id=${`stale-${stale.draftId}`} tabindex="-1" ref=${ref}>Based on revision ${stale.baseRevision}; the current revision is ${stale.currentRevision}</h4>
    <p>Changed since the draft was made:</p>
    <ul class="changes">${stale.changes.map((c) => html`<li><code>${c.path}</code>: ${short(c.before)} → ${short(c.after)}</li>`)}</ul>
    <button type="button" onClick=${onRebase} disabled=${busy}>Rebase on revision ${stale.currentRevision}</button>
    <span class="hint">Keeps the draft's own edits and takes everything else from revision ${stale.currentRevision}; promote again after its preview.</span>
  </div>`;
}

function Draft({ path, draft, session, onChanged, onPromoted }) {
  const [stale, setStale] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [yaml, setYaml] = useState(null);
  const editor = canEdit(session);
  const on = Object.entries(draft.settings.controls)
    .filter(([, c]) => c.enabled !== false)
    .map(([k]) => humanize(k));
  const name = draft.comment || `Draft ${draft.id.slice(0, 8)}`;

  async function act(fn) {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const promote = () =>
    act(async () => {
      // If-Match is the revision in force now; the API also refuses a draft whose base is older.
      const current = await request("GET", `${path}/settings`);
      try {
        const r = await post(`${path}/drafts/${draft.id}/promote`, undefined, { "if-match": current.etag });
        onPromoted(r.revision, name);
      } catch (e) {
        if (e instanceof ApiError && e.status === 412 && e.problem.baseRevision !== undefined) return setStale({ draftId: draft.id, ...e.problem });
        throw e;
      }
    });
  const rebase = () =>
    act(async () => {
      const [base, current] = await Promise.all([get(`${path}/settings/revisions/${stale.baseRevision}`), get(`${path}/settings`)]);
      const settings = reapply(base.settings, draft.settings, current.settings);
      await request("PATCH", `${path}/drafts/${draft.id}`, { body: { settings, comment: draft.comment } });
      setStale(null);
      onChanged(`Rebased “${name}” on revision ${current.revision}.`);
    });
  const remove = () =>
    act(async () => {
      await request("DELETE", `${path}/drafts/${draft.id}`);
      onChanged(`Deleted “${name}”.`);
    });
  async function showYaml() {
    if (yaml !== null) return setYaml(null);
    const r = await request("GET", `${path}/rendered?draft=${draft.id}&format=yaml`, { text: true }).catch((e) => ({ text: `# ${e.message}` }));
    setYaml(r.text);
  }

  return html`<article class="card draft" aria-labelledby=${`draft-${draft.id}`}>
    <h3 id=${`draft-${draft.id}`} class="rev-title">${name}</h3>
    <p class="muted">by ${draft.author} · based on revision ${draft.baseRevision} · version ${draft.version} · changed ${relative(draft.updatedAt)} · expires ${relative(draft.expiresAt)}</p>
    <p>Controls on: ${on.length ? on.join(", ") : "none"} · default mode ${draft.settings.enforcementAction}</p>
    <${Preview} path=${path} draft=${draft} />
    ${stale && html`<${Stale} stale=${stale} busy=${busy} onRebase=${rebase} />`}
    <${ErrorMessage} error=${error} />
    <div class="actions">
      ${
        editor &&
        html`<button type="button" onClick=${promote} disabled=${busy}>Promote “${name}”</button>
        <button type="button" class="secondary" onClick=${remove} disabled=${busy}>Delete “${name}”</button>`
      }
      <button type="button" class="secondary" aria-expanded=${yaml !== null} onClick=${showYaml}>${yaml === null ? "Show rendered YAML" : "Hide rendered YAML"}</button>
    </div>
    ${yaml !== null && html`<pre class="yaml" tabindex="0" aria-label=${`Rendered YAML of ${name}`}>${yaml}</pre>`}
  </article>`;
}

function CreateDraft({ path, presets, onCreated }) {
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const from = f.get("from");
    const comment = f.get("comment").trim();
    try {
      const body = from === "current" ? { settings: (await get(`${path}/settings`)).settings } : { preset: from };
      const d = await post(`${path}/drafts`, { ...body, comment });
      e.target.reset();
      setError(null);
      onCreated(d);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      setError(err);
    }
  }
  return html`<form class="card" onSubmit=${submit} aria-labelledby="new-draft-title">
    <h2 id="new-draft-title">New draft</h2>
    <div class="grid">
      <div><label for="draft-from">Start from</label>
        <select id="draft-from" name="from"><option value="current">The current settings</option>
          ${presets.map((p) => html`<option value=${p.name}>Preset: ${p.title}</option>`)}</select></div>
      <div><label for="draft-comment">Comment</label><input id="draft-comment" name="comment" maxlength="500" placeholder="what this draft tries" /></div>
    </div>
    <p class="hint">To draft your own edits, change the settings on the Security constraints page and choose "Save as draft".</p>
    <${ErrorMessage} error=${error} />
    <button type="submit">Create draft</button>
  </form>`;
}

export function DraftsPage({ id, session }) {
  const [env, setEnv] = useState(null);
  const [drafts, setDrafts] = useState(null);
  const [presets, setPresets] = useState([]);
  const [state, setState] = useState({});
  const [status, setStatus] = useState(null);
  const statusRef = useRef(null);
  const path = `/v1/environments/${encodeURIComponent(id)}`;

  const load = () =>
    get(`${path}/drafts`).then(
      (l) => setDrafts(l.items),
      (e) => setState({ error: e }),
    );
  useEffect(() => {
    get(path)
      .then((e) => (setEnv(e), load(), get("/v1/presets").then(setPresets, () => {})))
      .catch((e) => setState(e instanceof ApiError && (e.status === 404 || e.status === 400) ? { notFound: true } : { error: e }));
  }, [id]);
  useEffect(() => {
    if (status) statusRef.current?.focus();
  }, [status]);

  if (state.notFound) return html`<${NotFound} what="environment" />`;
  const changed = (message) => (setStatus(message), load());
  return html`<section>
    <${PageTitle}>Drafts: ${env?.name ?? "…"}</${PageTitle}>
    <${EnvironmentNav} id=${id} current="drafts" />
    <p class="muted">A draft's controls run in the cluster as dryrun shadows: Gatekeeper's audit shows what they would refuse before anyone enforces them.</p>
    <p class="status" role="status" tabindex="-1" ref=${statusRef}>${status}</p>
    <${ErrorMessage} error=${state.error} />
    <h2>Open drafts</h2>
    ${
      drafts === null
        ? html`<p>Loading…</p>`
        : drafts.length === 0
          ? html`<p>No open drafts.</p>`
          : drafts.map(
              (d) => html`<${Draft} key=${`${d.id}-${d.version}`} path=${path} draft=${d} session=${session}
      onChanged=${changed} onPromoted=${(rev, name) => changed(`Promoted “${name}”: revision ${rev} is in force.`)} />`,
            )
    }
    ${canEdit(session) && html`<${CreateDraft} path=${path} presets=${presets} onCreated=${(d) => changed(`Created “${d.comment || `Draft ${d.id.slice(0, 8)}`}”.`)} />`}
  </section>`;
}
