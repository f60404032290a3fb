// /v1/environments/{id}/agent-credentials: create, list, revoke, rotate, audited, never the secret
// except once: in the create / rotate response, alone and inside the install manifest.
import { and, eq } from "drizzle-orm";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import * as routes from "../../test/harness/routes.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditRows, createEnvironment } from "../../test/harness/fixtures.ts";
import { createApp } from "../app/app.ts";
import { parseCredential, secretMatches } from "../app/credentials.ts";
import { agentCredentials } from "../db/schema.ts";
import { AGENT_NAMESPACE, AGENT_SECRET } from "../install/agent-manifest.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";

type ManifestDoc = {
  kind: string;
  metadata: { name: string; namespace?: string };
  stringData?: Record<string, string>;
  spec?: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
};
/** The manifest's objects, its one Secret's token and the URL its Deployment tells the agent to call. */
const manifestOf = (yaml: string) => {
  const docs = parseAllDocuments(yaml).map((d) => d.toJS() as ManifestDoc);
  const secrets = docs.filter((d) => d.kind === "Secret");
  expect(secrets).toHaveLength(1);
  expect(secrets[0]!.metadata).toMatchObject({ name: AGENT_SECRET, namespace: AGENT_NAMESPACE });
  expect(Object.keys(secrets[0]!.stringData ?? {})).toEqual(["token"]);
  const deployment = docs.find((d) => d.kind === "Deployment")!;
  return {
    kinds: docs.map((d) => d.kind),
    token: secrets[0]!.stringData!.token!,
    apiUrl: deployment.spec!.template.spec.containers[0]!.env.find((e) => e.name === "GATEHOUSE_API_URL")?.value,
  };
};

describe.each(backends())("/v1/environments/{id}/agent-credentials ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  const setup = async (tenant: string) => {
    const env = await createEnvironment(api, tenant, { name: "prod" });
    return { env, token: await api.token(tenant, "admin", { sub: `alice@${tenant}` }), base: `/v1/environments/${env.id}/agent-credentials` as const };
  };
  const create = async (token: string, base: `/v1/environments/${string}/agent-credentials`) => {
    const res = await api.call(routes.agentCredentials.create, base, { token });
    expect(res.status, await res.clone().text()).toBe(201);
    return json(res);
  };
  /** Whether the stored hash accepts this token's secret: the agent API (a later issue) checks the same way. */
  const accepts = async (tenantId: string, id: string, token: string) => {
    const [row] = await api.db.withTenant(tenantId, (tx) =>
      tx
        .select()
        .from(agentCredentials)
        .where(and(eq(agentCredentials.id, id), eq(agentCredentials.tenantId, tenantId))),
    );
    const cred = parseCredential(token);
    return Boolean(row && cred && cred.kind === "gha" && cred.prefix === row.prefix && !row.revokedAt && secretMatches(cred.secret, row.secretHash));
  };

  it("creates a credential: 201 with a gha_ secret shown once, bound to the environment", async () => {
    const { env, token, base } = await setup("ac-create");
    const cred = await create(token, base);
    expect(cred).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      environmentId: env.id,
      prefix: expect.stringMatching(/^[0-9a-f]{16}$/),
      createdAt: expect.any(String),
      secret: expect.stringMatching(/^gha_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/),
      manifest: expect.any(String),
    });
    expect(parseCredential(cred.secret)?.prefix).toBe(cred.prefix);
    expect(await accepts(env.tenantId, cred.id, cred.secret)).toBe(true);
    // An empty JSON object is the same as no body.
    expect((await api.request("POST", base, { token, body: {} })).status).toBe(201);
  });

  it("lists the environment's credentials newest first, without secrets, and pages", async () => {
    const { env, token, base } = await setup("ac-list");
    const made = [];
    for (let i = 0; i < 3; i++) made.unshift(await create(token, base));
    const other = await createEnvironment(api, "ac-list", { name: "staging" });
    await create(token, `/v1/environments/${other.id}/agent-credentials`);
    const res = await api.request("GET", base, { token });
    const text = await res.text();
    for (const c of made) expect(text).not.toContain(parseCredential(c.secret)!.secret);
    expect(text).not.toMatch(/secret|hash/i);
    const body = JSON.parse(text);
    expect(body.nextCursor).toBeNull();
    expect(body.items).toEqual(
      made.map((c) => ({
        id: c.id,
        environmentId: env.id,
        prefix: c.prefix,
        createdBy: "alice@ac-list",
        createdAt: c.createdAt,
        lastUsedAt: null,
        revokedAt: null,
      })),
    );
    const first = await json(await api.call(routes.agentCredentials.list, `${base}?limit=2`, { token }));
    const second = await json(await api.call(routes.agentCredentials.list, `${base}?limit=2&cursor=${first.nextCursor}`, { token }));
    expect([...first.items, ...second.items].map((c: { id: string }) => c.id)).toEqual(made.map((c) => c.id));
    expect(second.nextCursor).toBeNull();
  });

  it("revokes (204, idempotent: one audit entry); the hash no longer accepts the secret", async () => {
    const { env, token, base } = await setup("ac-revoke");
    const cred = await create(token, base);
    expect((await api.request("DELETE", `${base}/${cred.id}`, { token })).status).toBe(204);
    expect((await api.request("DELETE", `${base}/${cred.id}`, { token })).status).toBe(204);
    expect(await accepts(env.tenantId, cred.id, cred.secret)).toBe(false);
    const [listed] = (await json(await api.call(routes.agentCredentials.list, base, { token }))).items;
    expect(listed!.revokedAt).toEqual(expect.any(String));
    const actions = (await auditRows(api, "ac-revoke")).map((r) => r.action);
    expect(actions).toEqual(["agent_credential.create", "agent_credential.revoke"]);
  });

  it("rotates: same id and prefix, a new secret; the old one stops matching at once", async () => {
    const { env, token, base } = await setup("ac-rotate");
    const cred = await create(token, base);
    const res = await api.call(routes.agentCredentials.rotate, `${base}/${cred.id}/rotate`, { token });
    expect(res.status).toBe(200);
    const rotated = await json(res);
    expect(rotated).toEqual({ ...cred, secret: expect.stringMatching(/^gha_/), manifest: expect.any(String) });
    expect(rotated.secret).not.toBe(cred.secret);
    expect(await accepts(env.tenantId, cred.id, cred.secret)).toBe(false);
    expect(await accepts(env.tenantId, cred.id, rotated.secret)).toBe(true);
  });

  it("create and rotate carry a manifest whose Secret is exactly the new secret; the manifest's token is the agent's, and a rotation retires the old one", async () => {
    const { base } = await setup("ac-manifest");
    const token = await api.token("ac-manifest", "admin");
    const desiredState = (t: string) => api.call(routes.agentDesiredState.route, AGENT_PATHS.desiredState, { token: t });

    const cred = await create(token, base);
    const made = manifestOf(cred.manifest);
    expect(made.kinds).toEqual(["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Secret", "Deployment"]);
    expect(made.token).toBe(cred.secret);
    expect(made.apiUrl).toBe("http://localhost");
    expect(cred.manifest.split("\n")[0]).toBe('# Gatehouse agent for environment "prod". Requires Gatekeeper in the cluster.');
    const first = await desiredState(made.token);
    expect(first.status, await first.clone().text()).toBe(200);
    expect((await json(first)).environmentName).toBe("prod");

    const rotated = await json(await api.call(routes.agentCredentials.rotate, `${base}/${cred.id}/rotate`, { token }));
    const remade = manifestOf(rotated.manifest);
    expect(remade.token).toBe(rotated.secret);
    expect(remade.token).not.toBe(made.token);
    expect(rotated.manifest.replace(rotated.secret, "T")).toBe(cred.manifest.replace(cred.secret, "T"));
    expect((await desiredState(remade.token)).status).toBe(200);
    await expectProblem(await desiredState(made.token), 401);

    // Neither manifest is ever served again: the list has no manifest, the GET manifest no Secret.
    const listed = await (await api.request("GET", base, { token })).text();
    const served = await (await api.request("GET", base.replace(/agent-credentials$/, "agent-manifest"), { token })).text();
    expect(listed).not.toMatch(/gha_|"manifest"|kind: Secret/);
    // The served manifest's only gha_ is the placeholder in its how-to-make-the-Secret comment.
    expect(served.match(/gha_\S*/g)).toEqual(["gha_..."]);
    expect(served).not.toMatch(/kind: Secret|stringData/);
  });

  it("the manifest's API URL is PUBLIC_URL when configured", async () => {
    const { base } = await setup("ac-public-url");
    const app = createApp({ db: api.db, config: { ...api.config, publicUrl: "https://gatehouse.example.com" } });
    const headers = { authorization: `Bearer ${await api.token("ac-public-url", "admin")}` };
    const res = await app.request(`http://10.0.0.7:8080${base}`, { method: "POST", headers });
    expect(res.status).toBe(201);
    const cred = await json<ResponseBodyOf<typeof routes.agentCredentials.create>>(res);
    expect(manifestOf(cred.manifest)).toMatchObject({ token: cred.secret, apiUrl: "https://gatehouse.example.com" });
    const rotated = await json<ResponseBodyOf<typeof routes.agentCredentials.rotate>>(
      await app.request(`${base}/${cred.id}/rotate`, { method: "POST", headers }),
    );
    expect(manifestOf(rotated.manifest)).toMatchObject({ token: rotated.secret, apiUrl: "https://gatehouse.example.com" });
  });

  it("audits create, rotate and revoke with the actor and target, never a secret", async () => {
    const { env, token, base } = await setup("ac-audit");
    const cred = await create(token, base);
    const rotated = await json(await api.call(routes.agentCredentials.rotate, `${base}/${cred.id}/rotate`, { token }));
    await api.request("DELETE", `${base}/${cred.id}`, { token });
    const rows = await auditRows(api, "ac-audit");
    expect(rows.map((r) => [r.action, r.targetType, r.targetId, r.actor])).toEqual([
      ["agent_credential.create", "agent_credential", cred.id, "alice@ac-audit"],
      ["agent_credential.rotate", "agent_credential", cred.id, "alice@ac-audit"],
      ["agent_credential.revoke", "agent_credential", cred.id, "alice@ac-audit"],
    ]);
    expect(rows[0]!.after).toEqual({ environmentId: env.id, prefix: cred.prefix, revokedAt: null });
    const log = JSON.stringify(rows) + (await (await api.request("GET", "/v1/audit-log", { token })).text());
    for (const t of [cred.secret, rotated.secret]) expect(log).not.toContain(parseCredential(t)!.secret);
  });

  it("an agent credential is not a user credential: 401 on the user API, even before revocation", async () => {
    const { token, base } = await setup("ac-not-user");
    const cred = await create(token, base);
    for (const [method, path] of [
      ["GET", "/v1/tenant"],
      ["GET", "/v1/api-keys"],
      ["GET", base],
      ["POST", base],
    ] as const) {
      const problem = await expectProblem(await api.request(method, path, { token: cred.secret }), 401);
      expect(problem.detail).toMatch(/Agent credentials/);
    }
    // Nor as an API key with its prefix and secret re-labelled.
    await expectProblem(await api.request("GET", "/v1/tenant", { token: cred.secret.replace(/^gha_/, "ghk_") }), 401);
  });
});
