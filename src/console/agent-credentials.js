// Admins only: the credentials an environment's in-cluster agent authenticates with
// (/v1/environments/{id}/agent-credentials). A new or rotated credential's token is shown once,
// with a copy button and its install manifest (which embeds the token as a Secret) to download:
// the API keeps only a hash and can never show either again. Revoke stops a credential at once.
import { useEffect, useState } from "preact/hooks";
import { all, ApiError, post, request } from "./api.js";
import { dateTime, downloadUrl, ErrorMessage, html, relative } from "./ui.js";
import { Secret } from "./secret.js";

export function AgentCredentials() {
  const [envs, setEnvs] = useState(null);
  const [envId, setEnvId] = useState("");
  const [creds, setCreds] = useState(null);
  const [fresh, setFresh] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    all("/v1/environments").then((l) => (setEnvs(l), setEnvId(l[0]?.id ?? "")), setError);
  }, []);
  const path = `/v1/environments/${envId}/agent-credentials`;
  const load = () => (envId ? all(path).then(setCreds, setError) : setCreds(null));
  useEffect(() => {
    setFresh(null);
    load();
  }, [envId]);
  const env = envs?.find((e) => e.id === envId);

  async function act(fn) {
    setError(null);
    try {
      await fn();
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e);
    }
  }
  const create = () => act(async () => setFresh({ ...(await post(path, {})), verb: "New" }));
  const rotate = (c) => act(async () => setFresh({ ...(await post(`${path}/${c.id}/rotate`)), verb: "Rotated" }));
  const revoke = (c) => act(() => request("DELETE", `${path}/${c.id}`));

  return html`<section class="card" aria-labelledby="creds-title">
    <h2 id="creds-title">Agent credentials</h2>
    <p class="muted">What an environment's agent authenticates with. One per cluster: revoke a cluster's credential and the others keep working.</p>
    ${envs?.length === 0 && html`<p>No environments yet: create one on the fleet page first.</p>`}
    ${
      envs?.length > 0 &&
      html`<div class="filter">
      <label for="cred-env">Environment</label>
      <select id="cred-env" value=${envId} onChange=${(e) => setEnvId(e.currentTarget.value)}>${envs.map((e) => html`<option value=${e.id}>${e.name}</option>`)}</select>
      <button type="button" onClick=${create}>Create agent credential</button>
    </div>`
    }
    ${
      fresh &&
      html`<${Secret} label=${`${fresh.verb} agent credential ${fresh.prefix} for ${env?.name}`} secret=${fresh.secret}>
      <a class="button secondary" href=${downloadUrl(fresh.manifest)} download=${`gatehouse-agent-${env?.name}.yaml`}>Download its install manifest (with the token)</a>
    </${Secret}>`
    }
    <${ErrorMessage} error=${error} />
    ${creds?.length === 0 && html`<p class="muted">No credentials for this environment.</p>`}
    ${
      creds?.length > 0 &&
      html`<div class="table-wrap"><table><caption class="visually-hidden">Agent credentials of ${env?.name}</caption>
      <thead><tr><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">State</th></tr></thead>
      <tbody>${creds.map(
        (c) => html`<tr><th scope="row"><code>${c.prefix}</code></th><td>${dateTime(c.createdAt)} by ${c.createdBy}</td>
        <td>${c.lastUsedAt ? relative(c.lastUsedAt) : "never"}</td>
        <td>${
          c.revokedAt
            ? `revoked ${dateTime(c.revokedAt)}`
            : html`<span class="actions">
          <button type="button" class="secondary" onClick=${() => rotate(c)}>Rotate ${c.prefix}</button>
          <button type="button" class="secondary" onClick=${() => revoke(c)}>Revoke ${c.prefix}</button></span>`
        }</td></tr>`,
      )}</tbody></table></div>`
    }
  </section>`;
}
