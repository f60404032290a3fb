// Shared pieces of the console's pages: htm bound to preact, headings that take focus when a page
// opens (screen readers announce it, keyboard users start there), error and status messages, and
// the few formatting helpers every page needs.
import { h } from "preact";
import { useEffect, useRef } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);

/** The page's h1; focused on mount so that navigation moves focus to the new content. */
export function PageTitle({ children }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

export function ErrorMessage({ error }) {
  if (!error) return null;
  const text = typeof error === "string" ? error : error.message;
  return html`<p class="error" role="alert">${text}</p>`;
}

/** A page for an id that does not exist — or belongs to another tenant (the API answers 404). */
export function NotFound({ what = "page" }) {
  return html`<section><${PageTitle}>Not found</${PageTitle}><p>No such ${what} in this tenant.</p><p><a href="#/">Back to the fleet</a></p></section>`;
}

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS = [
  ["year", 31536e6],
  ["month", 2592e6],
  ["week", 6048e5],
  ["day", 864e5],
  ["hour", 36e5],
  ["minute", 6e4],
];

/** "expires in 3 days", "2 hours ago" — relative to now. */
export function relative(iso, now = Date.now()) {
  if (!iso) return "";
  const ms = Date.parse(iso) - now;
  for (const [unit, size] of UNITS) if (Math.abs(ms) >= size) return rtf.format(Math.round(ms / size), unit);
  return rtf.format(Math.round(ms / 1000), "second");
}

export const dateTime = (iso) => (iso ? new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" }) : "—");

/** allowHostPID → "Allow host PID", privilegedContainers → "Privileged containers". */
const NAMES = { seLinux: "SELinux", appArmor: "AppArmor", seccomp: "Seccomp", allowHostPID: "Allow host PID", allowHostIPC: "Allow host IPC" };
export function humanize(key) {
  if (NAMES[key]) return NAMES[key];
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(" ");
  return words.map((w, i) => (i === 0 ? w[0].toUpperCase() + w.slice(1) : /^[A-Z]{2,}$/.test(w) ? w : w.toLowerCase())).join(" ");
}

/** A DOM id for a document path (the API's field path, e.g. settings.controls.x.options.y[0]). */
export const fieldId = (path) => `f-${path.replace(/[^A-Za-z0-9]+/g, "-")}`;

export const AGENT_STATE = { online: "Online", degraded: "Degraded", offline: "Offline", never_connected: "Never connected" };

export const canEdit = (session) => session.role === "editor" || session.role === "admin";
export const isAdmin = (session) => session.role === "admin";

/** A text file the browser saves (the agent manifest, rendered YAML). */
export function downloadUrl(text, type = "application/yaml") {
  return URL.createObjectURL(new Blob([text], { type }));
}
