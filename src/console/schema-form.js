// A form generated from a JSON Schema node of the OpenAPI document (itself generated from the
// zod schemas in src/policies): booleans become checkboxes, enums selects, integers number inputs
// with their bounds, lists of enum values checkbox groups, lists of strings one-per-line text
// areas, lists of objects rows of sub-forms. Every input's id is derived from the API's field path
// (fieldId), so a problem+json error naming `settings.controls.x.options.y[0].min` lands beside
// that input. readOnly renders values as text (viewers see no write controls).
import { fieldId, html, humanize } from "./ui.js";

/** Resolves a local $ref (#/components/schemas/X) against the document. */
export function deref(doc, schema) {
  while (schema?.$ref)
    schema = schema.$ref
      .split("/")
      .slice(1)
      .reduce((o, k) => o[k], doc);
  return schema ?? {};
}

/** A value to start from: the default, else the first option or an empty one of the type. */
export function initial(doc, schema) {
  const s = deref(doc, schema);
  if (s.default !== undefined) return structuredClone(s.default);
  if (s.enum) return s.enum[0];
  if (s.type === "object") {
    const o = {};
    for (const k of s.required ?? []) o[k] = initial(doc, s.properties[k]);
    return o;
  }
  if (s.type === "array") return [];
  if (s.type === "integer" || s.type === "number") return s.minimum ?? 0;
  if (s.type === "boolean") return false;
  return "";
}

function FieldError({ path, errors }) {
  const msg = errors[path];
  return msg ? html`<p class="error field-error" id=${`${fieldId(path)}-err`}>${msg}</p>` : null;
}
const invalid = (path, errors) => (errors[path] ? { "aria-invalid": "true", "aria-describedby": `${fieldId(path)}-err` } : {});
const hint = (s, inline) => !inline && s.description && html`<span class="hint">${s.description}</span>`;

function ReadOnlyValue({ value }) {
  if (value === undefined || value === null || value === "") return html`<span class="muted">unset</span>`;
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (Array.isArray(value))
    return value.length ? value.map((v) => (typeof v === "object" ? JSON.stringify(v) : v)).join(", ") : html`<span class="muted">none</span>`;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function ArrayOfObjects({ doc, schema, items, value, path, onChange, errors, label }) {
  const list = value ?? [];
  const set = (i, v) => onChange(list.map((x, j) => (j === i ? v : x)));
  return html`<fieldset class="rows"><legend>${label}</legend>${hint(schema)}
    ${list.length === 0 && html`<p class="muted">None.</p>`}
    ${list.map(
      (item, i) => html`<div class="row">
      <${ObjectFields} doc=${doc} schema=${items} value=${item} path=${`${path}[${i}]`} onChange=${(v) => set(i, v)} errors=${errors} inline=${true} />
      <button type="button" class="secondary" aria-label=${`Remove ${label} ${i + 1}`} onClick=${() => onChange(list.filter((_, j) => j !== i))}>Remove</button>
    </div>`,
    )}
    <button type="button" class="secondary" onClick=${() => onChange([...list, initial(doc, items)])}>Add ${label.toLowerCase()}</button>
    <${FieldError} path=${path} errors=${errors} />
  </fieldset>`;
}

export function SchemaField({ doc, schema, value, path, onChange, errors = {}, readOnly = false, label, optional = false, inline = false }) {
  const s = deref(doc, schema);
  const id = fieldId(path);
  if (readOnly && s.type !== "object") return html`<div class="ro"><span class="ro-label">${label}</span> <${ReadOnlyValue} value=${value} /></div>`;
  if (s.type === "object")
    return html`<${ObjectFields} doc=${doc} schema=${s} value=${value} path=${path} onChange=${onChange} errors=${errors} readOnly=${readOnly} legend=${label} />`;
  if (s.type === "boolean") {
    return html`<div class="check"><input type="checkbox" id=${id} checked=${!!value} onChange=${(e) => onChange(e.currentTarget.checked)} ...${invalid(path, errors)} />
      <label for=${id}>${label}</label>${hint(s, inline)}<${FieldError} path=${path} errors=${errors} /></div>`;
  }
  if (s.enum) {
    return html`<div><label for=${id}>${label}</label>
      <select id=${id} value=${value ?? ""} onChange=${(e) => onChange(e.currentTarget.value || undefined)} ...${invalid(path, errors)}>
        ${optional && html`<option value="">(unset)</option>`}${s.enum.map((v) => html`<option value=${v}>${v}</option>`)}
      </select>${hint(s, inline)}<${FieldError} path=${path} errors=${errors} /></div>`;
  }
  if (s.type === "integer" || s.type === "number") {
    return html`<div><label for=${id}>${label}</label>
      <input type="number" id=${id} value=${value ?? ""} min=${s.minimum} max=${s.maximum} step=${s.type === "integer" ? 1 : "any"}
        onChange=${(e) => onChange(e.currentTarget.value === "" ? undefined : Number(e.currentTarget.value))} ...${invalid(path, errors)} />
      ${hint(s, inline)}<${FieldError} path=${path} errors=${errors} /></div>`;
  }
  if (s.type === "array") {
    const items = deref(doc, s.items);
    if (items.type === "object")
      return html`<${ArrayOfObjects} doc=${doc} schema=${s} items=${items} value=${value} path=${path} onChange=${onChange} errors=${errors} label=${label} />`;
    const list = value ?? [];
    if (items.enum) {
      return html`<fieldset class="choices"><legend>${label}</legend>${hint(s, inline)}
        ${items.enum.map(
          (v) => html`<span class="check"><input type="checkbox" id=${`${id}-${fieldId(v)}`} checked=${list.includes(v)}
          onChange=${(e) => onChange(e.currentTarget.checked ? [...list, v] : list.filter((x) => x !== v))} /><label for=${`${id}-${fieldId(v)}`}>${v}</label></span>`,
        )}
        <${FieldError} path=${path} errors=${errors} /></fieldset>`;
    }
    // Per-entry errors (path[2]) are shown under the list, naming the line.
    const entryErrors = Object.keys(errors).filter((k) => k.startsWith(`${path}[`));
    return html`<div><label for=${id}>${label} <span class="muted">(one per line)</span></label>
      <textarea id=${id} rows=${Math.min(8, Math.max(2, list.length + 1))} value=${list.join("\n")}
        onChange=${(e) =>
          onChange(
            e.currentTarget.value
              .split("\n")
              .map((x) => x.trim())
              .filter(Boolean),
          )} ...${invalid(entryErrors[0] ?? path, errors)}></textarea>
      ${hint(s, inline)}<${FieldError} path=${path} errors=${errors} />
      ${entryErrors.map((k) => html`<p class="error field-error" id=${`${fieldId(k)}-err`}>line ${Number(/\[(\d+)\]$/.exec(k)?.[1] ?? 0) + 1}: ${errors[k]}</p>`)}</div>`;
  }
  return html`<div><label for=${id}>${label}</label>
    <input id=${id} value=${value ?? ""} maxlength=${s.maxLength} onChange=${(e) => onChange(e.currentTarget.value === "" && optional ? undefined : e.currentTarget.value)} ...${invalid(path, errors)} />
    ${hint(s, inline)}<${FieldError} path=${path} errors=${errors} /></div>`;
}

export function ObjectFields({ doc, schema, value, path, onChange, errors = {}, readOnly = false, legend, inline = false }) {
  const s = deref(doc, schema);
  const props = Object.entries(s.properties ?? {});
  if (props.length === 0) return html`<p class="muted">No options.</p>`;
  const v = value ?? {};
  const set = (k, x) => {
    const next = { ...v };
    if (x === undefined) delete next[k];
    else next[k] = x;
    onChange(next);
  };
  const fields = props.map(
    ([k, ps]) => html`<${SchemaField} doc=${doc} schema=${ps} value=${v[k]} path=${`${path}.${k}`} errors=${errors} readOnly=${readOnly}
    inline=${inline} label=${humanize(k)} optional=${!(s.required ?? []).includes(k)} onChange=${(x) => set(k, x)} />`,
  );
  if (inline) return html`<div class="inline-fields">${fields}</div>`;
  return legend ? html`<fieldset class="object"><legend>${legend}</legend>${hint(s)}${fields}</fieldset>` : html`<div class="fields">${fields}</div>`;
}
