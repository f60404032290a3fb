// The console's shell: sign-in, the header and navigation, and a hash router (#/..., so every
// page is a static file's URL on Node and Workers alike and links survive a reload).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { setUnauthorizedHandler } from "./api.js";
import { completeOidc, devSignIn, signInConfig, signOut, startOidc } from "./auth.js";
import { AdminPage } from "./admin.js";
import { AuditLogPage } from "./audit-log.js";
import { DenialsPage } from "./denials.js";
import { DraftsPage } from "./drafts.js";
import { FleetPage } from "./fleet.js";
import { HistoryPage } from "./history.js";
import { SettingsPage } from "./settings.js";
import { ErrorMessage, html, NotFound, PageTitle } from "./ui.js";
import { ViolationPage } from "./violation-detail.js";
import { ViolationsPage } from "./violations.js";

function parseRoute(hash) {
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: "fleet" };
  if (parts[0] === "violations" && parts.length === 1) return { page: "violations" };
  if (parts[0] === "violations" && parts.length === 2) return { page: "violation", id: parts[1] };
  if (parts[0] === "denials" && parts.length === 1) return { page: "denials" };
  if (parts[0] === "admin" && parts.length === 1) return { page: "admin" };
  if (parts[0] === "audit-log" && parts.length === 1) return { page: "audit-log" };
  if (parts[0] === "environments" && parts[1]) {
    if (parts.length === 2) return { page: "settings", id: parts[1] };
    if (parts[2] === "history" && parts.length === 3) return { page: "history", id: parts[1] };
    if (parts[2] === "drafts" && parts.length === 3) return { page: "drafts", id: parts[1] };
  }
  return { page: "unknown" };
}

function useRoute() {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

function DevSignIn({ onSession }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    try {
      onSession(await devSignIn(f.get("tenant").trim(), f.get("role"), f.get("sub").trim()));
    } catch (err) {
      setError(err.problem?.errors?.map((x) => `${x.path}: ${x.message}`).join("; ") || err.message);
      setBusy(false);
    }
  }
  return html`<form class="card narrow" onSubmit=${submit}>
    <p>This server uses the <strong>development key</strong> (no <code>JWKS_URL</code>): sign in as any tenant and role. Never expose it.</p>
    <label for="dev-tenant">Tenant</label>
    <input id="dev-tenant" name="tenant" required pattern="[a-z0-9]([a-z0-9\\-]*[a-z0-9])?" placeholder="acme" autocomplete="organization" />
    <label for="dev-role">Role</label>
    <select id="dev-role" name="role"><option value="admin">admin</option><option value="editor">editor</option><option value="viewer">viewer</option></select>
    <label for="dev-sub">Your name (recorded as the author)</label>
    <input id="dev-sub" name="sub" placeholder="dev" autocomplete="username" />
    <${ErrorMessage} error=${error} />
    <button type="submit" disabled=${busy}>Sign in</button>
  </form>`;
}

function SignIn({ config, message, onSession }) {
  const [error, setError] = useState(null);
  return html`<main id="main" class="signin">
    <${PageTitle}>${config?.mode === "development" ? "Development sign-in" : "Sign in to Gatehouse"}</${PageTitle}>
    ${message && html`<p class="notice" role="status">${message}</p>`}
    ${config?.mode === "development" && html`<${DevSignIn} onSession=${onSession} />`}
    ${
      config?.mode === "oidc" &&
      html`<div class="card narrow"><p>Sign in with your organisation's identity provider.</p>
      <button type="button" onClick=${() => startOidc(config).catch(setError)}>Sign in with ${new URL(config.issuer).host}</button></div>`
    }
    ${config?.mode === "none" && html`<p class="error">No sign-in is configured: set <code>CONSOLE_OIDC_CLIENT_ID</code> (with <code>JWKS_URL</code>), or run without <code>JWKS_URL</code> for development.</p>`}
    <${ErrorMessage} error=${error} />
    <p><a href="/docs">API reference</a></p>
  </main>`;
}

function Page({ route, session }) {
  if (route.page === "fleet") return html`<${FleetPage} session=${session} />`;
  if (route.page === "violations") return html`<${ViolationsPage} session=${session} />`;
  if (route.page === "denials") return html`<${DenialsPage} session=${session} />`;
  if (route.page === "violation") return html`<${ViolationPage} key=${route.id} id=${route.id} />`;
  if (route.page === "admin") return html`<${AdminPage} session=${session} />`;
  if (route.page === "audit-log") return html`<${AuditLogPage} session=${session} />`;
  if (route.page === "drafts") return html`<${DraftsPage} key=${route.id} id=${route.id} session=${session} />`;
  if (route.page === "settings") return html`<${SettingsPage} key=${route.id} id=${route.id} session=${session} />`;
  if (route.page === "history") return html`<${HistoryPage} key=${route.id} id=${route.id} session=${session} />`;
  return html`<${NotFound} />`;
}

function App() {
  const route = useRoute();
  const [config, setConfig] = useState(null);
  const [session, setSession] = useState(null);
  const [message, setMessage] = useState(null);

  useEffect(() => {
    setUnauthorizedHandler((detail) => {
      signOut();
      setSession(null);
      setMessage(`Your session ended (${detail ?? "401"}). Sign in again.`);
    });
    signInConfig()
      .then(async (cfg) => {
        setConfig(cfg);
        if (cfg.mode === "oidc") {
          const s = await completeOidc(cfg);
          if (s) setSession(s);
        }
      })
      .catch((e) => setMessage(e.message));
  }, []);

  if (!session) return html`<${SignIn} config=${config} message=${message} onSession=${(s) => (setMessage(null), setSession(s))} />`;
  const current = (page) => (route.page === page ? "page" : undefined);
  return html`<a class="skip" href="#main" onClick=${(e) => (e.preventDefault(), document.getElementById("main")?.focus())}>Skip to content</a>
    <header class="top">
      <span class="brand">Gatehouse</span>
      <nav aria-label="Main">
        <a href="#/" aria-current=${current("fleet")}>Fleet</a>
        <a href="#/violations" aria-current=${route.page === "violation" ? "page" : current("violations")}>Violations</a>
        <a href="#/denials" aria-current=${current("denials")}>Denials</a>
        ${
          session.role === "admin" &&
          html`<a href="#/admin" aria-current=${current("admin")}>Administration</a>
          <a href="#/audit-log" aria-current=${current("audit-log")}>Audit log</a>`
        }
        <a href="/docs">API reference</a>
      </nav>
      <span class="who">${session.tenant} · ${session.role}</span>
      <button type="button" class="secondary" onClick=${() => (signOut(), setSession(null), setMessage("Signed out."))}>Sign out</button>
    </header>
    <main id="main" tabindex="-1"><${Page} route=${route} session=${session} /></main>`;
}

const root = document.getElementById("app");
root.textContent = ""; // the "Loading…" placeholder
render(html`<${App} />`, root);
