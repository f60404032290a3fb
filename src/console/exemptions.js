// Exemptions editor: namespace and image patterns, each with a reason and an optional expiry
// ("expires in 3 days"; an expired one is kept in the document but no longer rendered).
import { fieldId, html, relative } from "./ui.js";

const KINDS = [
  ["namespaces", "Namespaces", "team-a or kube-*"],
  ["images", "Images", "registry.example.com/tools/*"],
];

// <input type=datetime-local> speaks local time without a zone; the API wants RFC 3339.
const toLocalInput = (iso) => {
  if (!iso) return "";
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const fromLocalInput = (v) => (v ? new Date(v).toISOString() : undefined);

function Entry({ entry, path, onChange, onRemove, errors, readOnly, placeholder }) {
  const expiry =
    entry.expiresAt && (Date.parse(entry.expiresAt) <= Date.now() ? `expired ${relative(entry.expiresAt)}` : `expires ${relative(entry.expiresAt)}`);
  if (readOnly) {
    return html`<li><code>${entry.pattern}</code>${entry.reason && ` — ${entry.reason}`}${expiry && html` <span class="expiry">(${expiry})</span>`}</li>`;
  }
  const field = (key, label, props) => {
    const p = `${path}.${key}`;
    const err = errors[p];
    return html`<div><label for=${fieldId(p)}>${label}</label>
      <input id=${fieldId(p)} aria-invalid=${err ? "true" : undefined} aria-describedby=${err ? `${fieldId(p)}-err` : undefined} ...${props} />
      ${err && html`<p class="error field-error" id=${`${fieldId(p)}-err`}>${err}</p>`}</div>`;
  };
  // Updated on every keystroke (onInput): the entry in the document is always what the inputs show.
  const set = (key, v) => {
    const next = { ...entry, [key]: v };
    if (v === undefined || v === "") delete next[key];
    onChange(next);
  };
  return html`<li class="row">
    <div class="inline-fields">
      ${field("pattern", "Pattern", { value: entry.pattern, placeholder, required: true, onInput: (e) => set("pattern", e.currentTarget.value) })}
      ${field("reason", "Reason", { value: entry.reason ?? "", onInput: (e) => set("reason", e.currentTarget.value) })}
      ${field("expiresAt", "Expires", { type: "datetime-local", value: toLocalInput(entry.expiresAt), onInput: (e) => set("expiresAt", fromLocalInput(e.currentTarget.value)) })}
    </div>
    ${expiry && html`<span class="expiry">${expiry}</span>`}
    <button type="button" class="secondary" aria-label=${`Remove exemption ${entry.pattern || "(new)"}`} onClick=${onRemove}>Remove</button>
  </li>`;
}

export function ExemptionsEditor({ value, path, onChange, errors = {}, readOnly = false, title = "Exemptions" }) {
  const ex = value ?? { namespaces: [], images: [] };
  const count = (ex.namespaces?.length ?? 0) + (ex.images?.length ?? 0);
  return html`<details class="exemptions" open=${Object.keys(errors).some((k) => k.startsWith(`${path}.`))}>
    <summary>${title} (${count})</summary>
    ${KINDS.map(([kind, label, placeholder]) => {
      const list = ex[kind] ?? [];
      const setList = (l) => onChange({ ...ex, [kind]: l });
      return html`<div class="exemption-kind" role="group" aria-label=${`${title}: ${label}`}>
        <h4>${label}</h4>
        ${list.length === 0 && html`<p class="muted">None.</p>`}
        <ul class="plain">${list.map(
          (entry, i) => html`<${Entry} entry=${entry} path=${`${path}.${kind}[${i}]`} errors=${errors} readOnly=${readOnly} placeholder=${placeholder}
          onChange=${(e) => setList(list.map((x, j) => (j === i ? e : x)))} onRemove=${() => setList(list.filter((_, j) => j !== i))} />`,
        )}</ul>
        ${!readOnly && html`<button type="button" class="secondary" onClick=${() => setList([...list, { pattern: "" }])}>Add ${kind === "namespaces" ? "namespace" : "image"} exemption</button>`}
      </div>`;
    })}
  </details>`;
}
