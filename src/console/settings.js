// "Security constraints" for one environment: the master toggle, each control with its mode,
// options (generated from the OpenAPI schema) and exemptions, the environment-wide defaults,
// presets, and Save with If-Match. When someone else saved first (412) it shows what they changed
// and offers to reapply this user's edits on top; a 400's field errors appear at their fields.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, openApiDocument, request } from "./api.js";
import { ExemptionsEditor } from "./exemptions.js";
import { deref, initial, ObjectFields } from "./schema-form.js";
import { canEdit, dateTime, ErrorMessage, fieldId, html, humanize, NotFound, PageTitle, relative } from "./ui.js";
import { EnvironmentNav } from "./history.js";

const MODES = ["deny", "warn", "dryrun"];
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** My edits (base → mine) laid over theirs, per environment knob and per control. */
export function reapply(base, mine, theirs) {
  const out = structuredClone(theirs);
  for (const k of ["enforcementAction", "exemptions"]) if (!same(base[k], mine[k])) out[k] = structuredClone(mine[k]);
  const ids = new Set([...Object.keys(base.controls), ...Object.keys(mine.controls)]);
  for (const id of ids) {
    if (same(base.controls[id], mine.controls[id])) continue;
    if (mine.controls[id] === undefined) delete out.controls[id];
    else out.controls[id] = structuredClone(mine.controls[id]);
  }
  return out;
}

const short = (v) => (v === undefined ? "(none)" : JSON.stringify(v).slice(0, 120));

function Conflict({ conflict, onReapply, onDiscard }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  return html`<section class="card conflict" aria-labelledby="conflict-title">
    <h2 id="conflict-title" tabindex="-1" ref=${ref}>Someone else saved first</h2>
    <p>Revision ${conflict.latest.revision} by ${conflict.latest.author} (${relative(conflict.latest.createdAt)}) changed:</p>
    <ul class="changes">${conflict.changes.map((c) => html`<li><code>${c.path}</code>: ${short(c.before)} → ${short(c.after)}</li>`)}</ul>
    <div class="actions">
      <button type="button" onClick=${onReapply}>Reapply my changes on revision ${conflict.latest.revision}</button>
      <button type="button" class="secondary" onClick=${onDiscard}>Discard mine and load it</button>
    </div>
  </section>`;
}

function Control({ doc, id, schema, value, envMode, onChange, errors, readOnly }) {
  const path = `settings.controls.${id}`;
  const on = !!value && value.enabled !== false;
  const toggle = (checked) => {
    if (value) onChange({ ...value, enabled: checked });
    else if (checked) onChange({ enabled: true, exemptions: { namespaces: [], images: [] }, options: initial(doc, deref(doc, schema).properties.options) });
  };
  const props = deref(doc, schema).properties;
  const mode = value?.enforcementAction;
  return html`<section class=${`control card ${on ? "on" : "off"}`} aria-labelledby=${`${fieldId(path)}-title`}>
    <div class="control-head">
      ${
        readOnly
          ? html`<h3 id=${`${fieldId(path)}-title`}>${humanize(id)} <span class=${on ? "ok" : "muted"}>${on ? `on · ${mode ?? envMode}` : "off"}</span></h3>`
          : html`<h3 id=${`${fieldId(path)}-title`} class="check"><input type="checkbox" id=${fieldId(`${path}.enabled`)} checked=${on} onChange=${(e) => toggle(e.currentTarget.checked)} />
            <label for=${fieldId(`${path}.enabled`)}>${humanize(id)}</label></h3>
          ${
            on &&
            html`<label class="mode">Mode <select id=${fieldId(`${path}.enforcementAction`)} value=${mode ?? ""} onChange=${(e) => onChange({ ...value, enforcementAction: e.currentTarget.value || undefined })}>
            <option value="">environment default (${envMode})</option>${MODES.map((m) => html`<option value=${m}>${m}</option>`)}</select></label>`
          }`
      }
    </div>
    ${
      on &&
      html`<${ObjectFields} doc=${doc} schema=${props.options} value=${value.options} path=${`${path}.options`} errors=${errors} readOnly=${readOnly}
        onChange=${(o) => onChange({ ...value, options: o })} />
      <${ExemptionsEditor} value=${value.exemptions} path=${`${path}.exemptions`} errors=${errors} readOnly=${readOnly} title="Exemptions for this control"
        onChange=${(x) => onChange({ ...value, exemptions: x })} />`
    }
  </section>`;
}

export function SettingsPage({ id, session }) {
  const [state, setState] = useState({ loading: true });
  const [doc, setDoc] = useState(null);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [status, setStatus] = useState(null);
  const [conflict, setConflict] = useState(null);
  const [yaml, setYaml] = useState(null);
  const [comment, setComment] = useState("");
  const [busy, setBusy] = useState(false);
  const statusRef = useRef(null);
  const readOnly = !canEdit(session);
  const path = `/v1/environments/${encodeURIComponent(id)}`;

  const adopt = (rev, etag) => (setState((s) => ({ ...s, base: rev, etag })), setDoc(structuredClone(rev.settings)), setErrors({}));

  useEffect(() => {
    Promise.all([get(path), request("GET", `${path}/settings`), openApiDocument(), get("/v1/presets")])
      .then(([env, r, openapi, presets]) => {
        setState({ env, openapi, presets, base: r.data, etag: r.etag });
        setDoc(structuredClone(r.data.settings));
      })
      .catch((e) => setState({ notFound: e instanceof ApiError && (e.status === 404 || e.status === 400), error: e }));
  }, [id]);

  useEffect(() => {
    if (status) statusRef.current?.focus();
  }, [status]);
  // After a refused save, focus goes to the first field the API named (its message is beside it).
  useEffect(() => {
    if (Object.keys(errors).length) (document.querySelector("main [aria-invalid=true]") ?? document.querySelector("main [role=alert]"))?.focus();
  }, [errors]);

  if (state.notFound) return html`<${NotFound} what="environment" />`;
  if (state.error) return html`<${ErrorMessage} error=${state.error} />`;
  if (state.loading || !doc) return html`<p>Loading…</p>`;

  const { env, openapi, presets, base, etag } = state;
  const settingsSchema = openapi.components.schemas.EnvironmentSettings;
  const controlSchemas = settingsSchema.properties.controls.properties;
  const dirty = !same(doc, base.settings);
  const anyOn = Object.values(doc.controls).some((c) => c.enabled !== false);
  const setControl = (cid, v) => setDoc({ ...doc, controls: { ...doc.controls, [cid]: v } });

  async function save() {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const r = await request("PUT", `${path}/settings`, { body: { settings: doc, comment }, headers: { "if-match": etag } });
      adopt(r.data, r.etag);
      setComment("");
      setYaml(null);
      setStatus(`Saved revision ${r.data.revision}.`);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 412) {
        const latest = await request("GET", `${path}/settings`);
        const diff = await get(`${path}/settings/diff?from=${base.revision}&to=${latest.data.revision}`);
        setConflict({ latest: latest.data, etag: latest.etag, changes: diff.changes });
      } else {
        setErrors(e.fieldErrors);
        setError(e.message);
      }
    } finally {
      setBusy(false);
    }
  }

  // The edits as a draft instead of a revision: previewed in the cluster before anyone enforces them.
  async function saveDraft() {
    setBusy(true);
    setError(null);
    try {
      await request("POST", `${path}/drafts`, { body: { settings: doc, comment } });
      location.hash = `#/environments/${encodeURIComponent(id)}/drafts`;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setErrors(e.fieldErrors);
      setError(e.message);
      setBusy(false);
    }
  }

  async function applyPreset(e) {
    e.preventDefault();
    const preset = new FormData(e.currentTarget).get("preset");
    try {
      await request("POST", `${path}/settings/preset`, { body: { preset }, headers: { "if-match": etag } });
      const r = await request("GET", `${path}/settings`);
      adopt(r.data, r.etag);
      setStatus(`Applied the ${preset} preset: revision ${r.data.revision}.`);
    } catch (err) {
      setError(err.status === 412 ? "Someone else saved first: reload the page before applying a preset." : err.message);
    }
  }

  async function showYaml() {
    if (yaml !== null) return setYaml(null);
    const r = await request("GET", `${path}/rendered?format=yaml`, { text: true }).catch((e) => ({ text: `# ${e.message}` }));
    setYaml(r.text);
  }

  const unplaced = Object.entries(errors).filter(([p]) => !document.getElementById(fieldId(p)));
  return html`<section>
    <${PageTitle}>Security constraints: ${env.name}</${PageTitle}>
    <${EnvironmentNav} id=${id} current="settings" />
    <p class="muted">Revision ${base.revision} by ${base.author}, ${dateTime(base.createdAt)}${base.comment && ` — “${base.comment}”`}${dirty ? " · unsaved changes" : ""}</p>
    <p class="status" role="status" tabindex="-1" ref=${statusRef}>${status}</p>
    ${
      conflict &&
      html`<${Conflict} conflict=${conflict}
      onReapply=${() => {
        const merged = reapply(base.settings, doc, conflict.latest.settings);
        adopt(conflict.latest, conflict.etag);
        setDoc(merged);
        setConflict(null);
        setStatus(`Your changes are reapplied on revision ${conflict.latest.revision}: review them and save.`);
      }}
      onDiscard=${() => {
        adopt(conflict.latest, conflict.etag);
        setConflict(null);
        setStatus(`Loaded revision ${conflict.latest.revision}.`);
      }} />`
    }
    ${error && html`<div class="error" role="alert"><p>${error}</p>${unplaced.length > 0 && html`<ul>${unplaced.map(([p, m]) => html`<li><code>${p}</code>: ${m}</li>`)}</ul>`}</div>`}

    <div class="card">
      ${
        readOnly
          ? html`<p><strong>Pod security constraints: ${anyOn ? "enabled" : "disabled"}</strong> · default mode ${doc.enforcementAction}</p>`
          : html`<div class="check master"><input type="checkbox" id="master" checked=${anyOn}
              onChange=${(e) => setDoc({ ...doc, controls: Object.fromEntries(Object.entries(doc.controls).map(([k, c]) => [k, { ...c, enabled: e.currentTarget.checked }])) })} />
            <label for="master">Enable pod security constraints</label></div>
          ${!anyOn && Object.keys(doc.controls).length === 0 && html`<p class="muted">No control is configured: turn some on below, or apply a preset.</p>`}
          <label for=${fieldId("settings.enforcementAction")}>Default mode for every control</label>
          <select id=${fieldId("settings.enforcementAction")} value=${doc.enforcementAction} onChange=${(e) => setDoc({ ...doc, enforcementAction: e.currentTarget.value })}>
            ${MODES.map((m) => html`<option value=${m}>${m}</option>`)}</select>`
      }
      <${ExemptionsEditor} value=${doc.exemptions} path="settings.exemptions" errors=${errors} readOnly=${readOnly} title="Exemptions for every control"
        onChange=${(x) => setDoc({ ...doc, exemptions: x })} />
    </div>

    ${
      !readOnly &&
      html`<form class="card filter" onSubmit=${applyPreset}>
      <label for="preset">Preset</label>
      <select id="preset" name="preset">${presets.map((p) => html`<option value=${p.name}>${p.title}</option>`)}</select>
      <button type="submit" class="secondary" disabled=${dirty}>Apply preset</button>
      ${dirty && html`<span class="muted">Save or discard your changes first.</span>`}
    </form>`
    }

    <h2>Controls</h2>
    ${Object.entries(controlSchemas).map(
      ([cid, schema]) => html`<${Control} doc=${openapi} id=${cid} schema=${schema} value=${doc.controls[cid]} envMode=${doc.enforcementAction}
      errors=${errors} readOnly=${readOnly} onChange=${(v) => setControl(cid, v)} />`,
    )}

    <div class="savebar">
      ${
        !readOnly &&
        html`<label for="comment">Comment</label><input id="comment" value=${comment} maxlength="500" onInput=${(e) => setComment(e.currentTarget.value)} placeholder="why this change" />
        <button type="button" onClick=${save} disabled=${busy || !dirty}>Save settings</button>
        <button type="button" class="secondary" disabled=${busy || !dirty} onClick=${saveDraft}>Save as draft</button>
        <button type="button" class="secondary" disabled=${!dirty} onClick=${() => (adopt(base, etag), setStatus("Changes discarded."))}>Discard changes</button>`
      }
      <button type="button" class="secondary" aria-expanded=${yaml !== null} onClick=${showYaml}>${yaml === null ? "Show rendered YAML" : "Hide rendered YAML"}</button>
    </div>
    ${yaml !== null && html`<pre class="yaml" tabindex="0" aria-label="Rendered YAML of the saved revision">${yaml}</pre>`}
  </section>`;
}
