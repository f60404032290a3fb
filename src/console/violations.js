// Violations across the tenant (GET /v1/violations): filters by environment, control, namespace,
// enforcement action, state and since; the daily trend (of the environment filtered on, or all);
// the list with where and when, each row leading to that violation's openings and resolutions.
import { useFilteredList } from "./filtered-list.js";
import { TrendChart } from "./violation-detail.js";
import { dateTime, ErrorMessage, html, PageTitle, relative } from "./ui.js";

const FILTERS = ["environment", "control", "namespace", "state", "enforcementAction", "since"];

export function ViolationsPage() {
  const { envs, names, items, error, submit, filters } = useFilteredList("/v1/violations", FILTERS, { state: "open" });
  return html`<section>
    <${PageTitle}>Violations</${PageTitle}>
    <form class="card filters" onSubmit=${submit} aria-label="Filter violations">
      <div><label for="v-environment">Environment</label><select id="v-environment" name="environment"><option value="">All</option>${envs.map((e) => html`<option value=${e.id}>${e.name}</option>`)}</select></div>
      <div><label for="v-control">Control</label><input id="v-control" name="control" placeholder="privileged-containers" /></div>
      <div><label for="v-namespace">Namespace</label><input id="v-namespace" name="namespace" /></div>
      <div><label for="v-state">State</label><select id="v-state" name="state"><option value="open">Open</option><option value="resolved">Resolved</option><option value="">Any</option></select></div>
      <div><label for="v-action">Enforcement action</label><select id="v-action" name="enforcementAction"><option value="">Any</option><option>deny</option><option>warn</option><option>dryrun</option></select></div>
      <div><label for="v-since">Opened since</label><input id="v-since" name="since" type="date" /></div>
      <div><button type="submit">Apply filters</button></div>
    </form>
    <${TrendChart} environment=${filters.environment} />
    <${ErrorMessage} error=${error} />
    ${
      items === null
        ? html`<p>Loading…</p>`
        : items.length === 0
          ? html`<p>No violations match.</p>`
          : html`<div class="table-wrap"><table>
      <caption class="visually-hidden">Violations</caption>
      <thead><tr><th scope="col">Resource</th><th scope="col">Environment</th><th scope="col">Control</th><th scope="col">Action</th><th scope="col">State</th><th scope="col">Opened</th><th scope="col">Message</th></tr></thead>
      <tbody>${items.map(
        (v) => html`<tr>
        <th scope="row"><a href=${`#/violations/${v.id}`}>${v.resource.kind} ${v.resource.namespace}/${v.resource.name}</a></th>
        <td><a href=${`#/environments/${v.environmentId}`}>${names[v.environmentId] ?? v.environmentId.slice(0, 8)}</a></td>
        <td>${v.control ?? v.constraint.name}</td><td><span class=${`badge ${v.enforcementAction}`}>${v.enforcementAction}</span></td>
        <td>${v.state}${v.resolvedAt && html` <span class="muted">${relative(v.resolvedAt)}</span>`}</td>
        <td><time datetime=${v.openedAt}>${dateTime(v.openedAt)}</time></td><td>${v.message}</td>
      </tr>`,
      )}</tbody></table></div>`
    }
  </section>`;
}
