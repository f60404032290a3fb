// A secret the API shows exactly once (an API key, an agent token, a webhook signing secret): the
// value with a copy button, and whatever else belongs with it (children: a manifest to download).
import { useState } from "preact/hooks";
import { html } from "./ui.js";

export function Secret({ label, secret, children }) {
  const [copied, setCopied] = useState(false);
  return html`<div class="card secret" role="status">
    <p><strong>${label}</strong> — shown once: copy it now.</p>
    <code class="secret-value">${secret}</code>
    <div class="actions">
      <button type="button" class="secondary" onClick=${() => navigator.clipboard?.writeText(secret).then(() => setCopied(true))}>${copied ? "Copied" : "Copy"}</button>
      ${children}
    </div>
  </div>`;
}
