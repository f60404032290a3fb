// Admission denials across the tenant (GET /v1/denials): what Gatekeeper's webhook refused, warned
// about or recorded in dryrun, and what the API server refused through a generated policy (source
// apiserver, marked as such), filed under the workload that asked, with a count — the refusals of
// controller-created Pods nobody saw at a terminal. Filters by environment, action, namespace,
// workload and since. The most severe come first.
import { useFilteredList } from "./filtered-list.js";
import { dateTime, ErrorMessage, html, PageTitle, relative } from "./ui.js";

const FILTERS = ["environment", "action", "namespace", "workload", "since"];

// The API's severity levels (policies/severity.ts), most severe first; a denial without a control last.
const SEVERITY_ORDER = ["critical", "high", "medium"];
const rank = (d) => (SEVERITY_ORDER.includes(d.severity) ? SEVERITY_ORDER.indexOf(d.severity) : SEVERITY_ORDER.length);
/** The worst first; within a severity, the API's order (most recently seen first). */
const bySeverity = (items) =>
  items
    .map((d, i) => [d, i])
    .sort(([a, i], [b, j]) => rank(a) - rank(b) || i - j)
    .map(([d]) => d);

export function DenialsPage() {
  const { envs, names, items, error, submit } = useFilteredList("/v1/denials", FILTERS, {});
  return html`<section>
    <${PageTitle}>Denials</${PageTitle}>
    <p class="muted">What Gatekeeper refused (or warned about) at admission, including Pods a controller asked for. Needs Gatekeeper's <code>--emit-admission-events</code>; the API server's refusals of a controller's Pods are read from the controller's events.</p>
    <form class="card filters" onSubmit=${submit} aria-label="Filter denials">
      <div><label for="d-environment">Environment</label><select id="d-environment" name="environment"><option value="">All</option>${envs.map((e) => html`<option value=${e.id}>${e.name}</option>`)}</select></div>
      <div><label for="d-action">Action</label><select id="d-action" name="action"><option value="">Any</option><option>deny</option><option>warn</option><option>dryrun</option></select></div>
      <div><label for="d-namespace">Namespace</label><input id="d-namespace" name="namespace" /></div>
      <div><label for="d-workload">Workload</label><input id="d-workload" name="workload" placeholder="Deployment/web" /></div>
      <div><label for="d-since">Seen since</label><input id="d-since" name="since" type="date" /></div>
      <div><button type="submit">Apply filters</button></div>
    </form>
    <${ErrorMessage} error=${error} />
    ${
      items === null
        ? html`<p>Loading…</p>`
        : items.length === 0
          ? html`<p>No denials match.</p>`
          : html`<div class="table-wrap"><table>
      <caption class="visually-hidden">Denials</caption>
      <thead><tr><th scope="col">Workload</th><th scope="col">Environment</th><th scope="col">Severity</th><th scope="col">Control</th><th scope="col">Action</th><th scope="col">Count</th><th scope="col">Last seen</th><th scope="col">Requested by</th><th scope="col">Message</th></tr></thead>
      <tbody>${bySeverity(items).map(
        (d) => html`<tr>
        <th scope="row">${d.workload.kind} ${d.namespace}/${d.workload.name}</th>
        <td><a href=${`#/environments/${d.environmentId}`}>${names[d.environmentId] ?? d.environmentId.slice(0, 8)}</a></td>
        <td>${d.severity ? html`<span class="badge">${d.severity}</span>` : html`<span class="muted">—</span>`}</td>
        <td>${d.control ?? d.constraint.name}</td><td><span class=${`badge ${d.action}`}>${d.action}</span>${d.source === "apiserver" ? html` <span class="muted">by the API server</span>` : ""}</td>
        <td>${d.count}</td>
        <td><time datetime=${d.lastSeenAt}>${dateTime(d.lastSeenAt)}</time> <span class="muted">${relative(d.lastSeenAt)}</span></td>
        <td>${d.username || html`<span class="muted">its controller</span>`}</td><td>${d.message}</td>
      </tr>`,
      )}</tbody></table></div>`
    }
  </section>`;
}
