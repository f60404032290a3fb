// The admission-denial history end to end through the API: the agent posts Gatekeeper's admission
// events (and the API server's refusals, source apiserver), users read them as one row per workload with a count — coalesced across Events and
// ReplicaSets, idempotent when a batch is sent again, filtered, summarised, paged — and old rows
// age out with DENIAL_RETENTION_DAYS.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admissionAt, admissionEvent, createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, type EnvJson } from "../../test/harness/environments.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const T = "den-happy";

describe.each(backends())("/v1/denials ($name)", (backend) => {
  let api: TestApi;
  let env: EnvJson;
  let agent: string;
  let viewer: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    env = await createEnvironment(api, T, { name: "prod" });
    agent = (await createAgentCredential(api, T, env.id)).secret;
    viewer = await api.token(T, "viewer");
  });
  afterAll(() => api?.close());

  const send = async (events: unknown[]) => {
    const res = await api.call(routes.agentAdmissionEvents.route, AGENT_PATHS.admissionEvents, { token: agent, body: { events } });
    expect(res.status, await res.clone().text()).toBe(200);
    return json(res);
  };
  const list = async (query = "") => json<ResponseBodyOf<typeof routes.denials.list>>(await api.request("GET", `/v1/denials${query}`, { token: viewer }));

  it("files a refused Pod under its Deployment, with the control, user and message", async () => {
    expect(await send([admissionEvent()])).toEqual({ counted: 1, unchanged: 0, shadow: 0 });
    const { items } = await list();
    expect(items).toEqual([
      {
        id: expect.any(String),
        environmentId: env.id,
        action: "deny",
        source: "webhook",
        control: "privilegedContainers",
        severity: "critical",
        constraint: { kind: "GatehousePrivilegedContainers", name: "privileged-containers" },
        namespace: "team-a",
        workload: { kind: "Deployment", name: "root-web" },
        object: { kind: "Pod", name: "root-web-7c9d8f6b5d-x2x7q" },
        username: "system:serviceaccount:kube-system:replicaset-controller",
        message: admissionEvent().message,
        count: 1,
        firstSeenAt: admissionAt(0),
        lastSeenAt: admissionAt(0),
      },
    ]);
    expect(await json(await api.call(routes.denials.get, `/v1/denials/${items[0]!.id}`, { token: viewer }))).toEqual(items[0]);
  });

  it("one row with a growing count: a grown Event adds its difference, a re-sent batch adds nothing, a new ReplicaSet's Events join the row", async () => {
    // Kubernetes aggregated 4 more refusals into the same Event.
    expect(await send([admissionEvent({ count: 5, lastSeenAt: admissionAt(1) })])).toEqual({ counted: 1, unchanged: 0, shadow: 0 });
    // The agent restarted and sends everything again.
    expect(await send([admissionEvent({ count: 5, lastSeenAt: admissionAt(1) })])).toEqual({ counted: 0, unchanged: 1, shadow: 0 });
    // A rollout: a new ReplicaSet, a new Event, the same Deployment.
    const newer = admissionEvent({
      uid: "6a1c0c1e-0000-4000-8000-000000000002",
      count: 2,
      firstSeenAt: admissionAt(2),
      lastSeenAt: admissionAt(3),
      resource: { ...admissionEvent().resource, name: "root-web-5f6d7c8b9a-abcde" },
    });
    expect(await send([newer, newer])).toEqual({ counted: 1, unchanged: 0, shadow: 0 });
    const { items } = await list("?namespace=team-a");
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ count: 7, firstSeenAt: admissionAt(0), lastSeenAt: admissionAt(3), object: { name: "root-web-5f6d7c8b9a-abcde" } });
    // An older Event arriving late does not overwrite what the row shows.
    expect(
      await send([
        admissionEvent({ uid: "6a1c0c1e-0000-4000-8000-000000000003", message: "older", lastSeenAt: admissionAt(-60), firstSeenAt: admissionAt(-60) }),
      ]),
    ).toMatchObject({ counted: 1 });
    const [row] = (await list("?namespace=team-a")).items;
    expect(row).toMatchObject({ count: 8, firstSeenAt: admissionAt(-60), lastSeenAt: admissionAt(3), object: { name: "root-web-5f6d7c8b9a-abcde" } });
    expect(row!.message).not.toBe("older");
  });

  it("warn, a person's Pod without owner, and a CronJob's Job: separate rows; filters and summaries", async () => {
    await send([
      admissionEvent({
        uid: "w-1",
        action: "warn",
        constraintKind: "GatehouseHostNamespaces",
        constraintName: "host-namespaces",
        count: 3,
        lastSeenAt: admissionAt(4),
        message: "hostPID",
      }),
      admissionEvent({
        uid: "p-1",
        owner: null,
        resource: { group: "", version: "v1", kind: "Pod", namespace: "team-b", name: "debug" },
        username: "alice@example.com",
        lastSeenAt: admissionAt(5),
      }),
      admissionEvent({
        uid: "j-1",
        owner: { kind: "CronJob", name: "nightly" },
        resource: { group: "", version: "v1", kind: "Pod", namespace: "team-b", name: "nightly-29000000-abcde" },
        username: "system:serviceaccount:kube-system:job-controller",
        lastSeenAt: admissionAt(6),
      }),
    ]);
    const all = (await list()).items;
    expect(all.map((d: { workload: { kind: string; name: string }; action: string }) => `${d.action} ${d.workload.kind}/${d.workload.name}`)).toEqual([
      "deny CronJob/nightly",
      "deny Pod/debug",
      "warn Deployment/root-web",
      "deny Deployment/root-web",
    ]);
    expect((await list("?action=warn")).items).toHaveLength(1);
    expect((await list("?control=hostNamespaces")).items).toHaveLength(1);
    expect((await list("?workload=CronJob/nightly")).items[0]!.username).toBe("system:serviceaccount:kube-system:job-controller");
    expect((await list("?workload=debug")).items[0]!.username).toBe("alice@example.com");
    expect((await list(`?since=${admissionAt(5)}`)).items).toHaveLength(2);
    expect((await list(`?environment=${env.id}&namespace=team-b`)).items).toHaveLength(2);

    const byControl = await json(await api.call(routes.denials.summary, "/v1/denials/summary", { token: viewer }));
    expect(byControl).toEqual({
      by: "control",
      groups: [
        { key: "privilegedContainers", denials: 3, count: 10, byAction: { deny: 10, warn: 0, dryrun: 0 } },
        { key: "hostNamespaces", denials: 1, count: 3, byAction: { deny: 0, warn: 3, dryrun: 0 } },
      ],
    });
    const byWorkload = await json(await api.call(routes.denials.envSummary, `/v1/environments/${env.id}/denials/summary?by=workload`, { token: viewer }));
    expect(byWorkload.groups[0]).toEqual({ key: "team-a/Deployment/root-web", denials: 2, count: 11, byAction: { deny: 8, warn: 3, dryrun: 0 } });
    const byNs = await json(await api.call(routes.denials.summary, "/v1/denials/summary?by=namespace&action=deny", { token: viewer }));
    expect(byNs.groups).toEqual([
      { key: "team-a", denials: 1, count: 8, byAction: { deny: 8, warn: 0, dryrun: 0 } },
      { key: "team-b", denials: 2, count: 2, byAction: { deny: 2, warn: 0, dryrun: 0 } },
    ]);
  });

  it("events of a draft's shadow constraints are a preview, never a denial", async () => {
    const before = (await list("?limit=100")).items.length;
    const shadow = admissionEvent({
      uid: "shadow-1",
      action: "dryrun",
      constraintName: "preview-0123abcd-1-privileged-containers",
      owner: { kind: "Deployment", name: "would-be-refused" },
    });
    expect(await send([shadow])).toEqual({ counted: 0, unchanged: 0, shadow: 1 });
    expect((await list("?limit=100")).items).toHaveLength(before);
  });

  it("the API server's refusal of a controller's Pod is marked apiserver; an agent that sends no source is the webhook's; a row shows its latest event's", async () => {
    const vap = admissionEvent({
      uid: "vap-1",
      source: "apiserver",
      owner: { kind: "Deployment", name: "vap-web" },
      resource: { group: "", version: "v1", kind: "Pod", namespace: "team-c", name: "vap-web-6b566955b5-kv6cv" },
      username: "",
      count: 4,
      lastSeenAt: admissionAt(7),
    });
    const { source: _, ...older } = admissionEvent({ uid: "legacy-1", owner: { kind: "Deployment", name: "legacy" }, lastSeenAt: admissionAt(7) });
    expect(await send([vap, older])).toEqual({ counted: 2, unchanged: 0, shadow: 0 });
    expect(await send([vap])).toEqual({ counted: 0, unchanged: 1, shadow: 0 });
    const [row] = (await list("?workload=Deployment/vap-web")).items;
    expect(row).toMatchObject({ source: "apiserver", username: "", count: 4, control: "privilegedContainers", object: { name: "vap-web-6b566955b5-kv6cv" } });
    expect((await list("?workload=Deployment/legacy")).items[0]!.source).toBe("webhook");
    // The control moved to the API server: the same workload's row, now marked apiserver; a late
    // webhook Event older than that does not mark it back.
    await send([admissionEvent({ uid: "legacy-2", source: "apiserver", owner: { kind: "Deployment", name: "legacy" }, lastSeenAt: admissionAt(8) })]);
    await send([admissionEvent({ uid: "legacy-3", owner: { kind: "Deployment", name: "legacy" }, lastSeenAt: admissionAt(6), firstSeenAt: admissionAt(6) })]);
    const legacy = (await list("?workload=Deployment/legacy")).items;
    expect(legacy).toHaveLength(1);
    expect(legacy[0]).toMatchObject({ source: "apiserver", count: 3 });
  });

  it("a time ahead of the server's clock counts as now: it cannot outrank later refusals or escape retention", async () => {
    await send([
      admissionEvent({
        uid: "future",
        owner: { kind: "Deployment", name: "clock-skew" },
        firstSeenAt: "9999-12-31T23:59:59Z",
        lastSeenAt: "9999-12-31T23:59:59Z",
      }),
    ]);
    const [row] = (await list("?workload=Deployment/clock-skew")).items;
    expect(Date.parse(row!.lastSeenAt)).toBeLessThanOrEqual(Date.now());
    expect(row!.firstSeenAt).toBe(row!.lastSeenAt);
  });

  it("pages with a cursor, most recently seen first", async () => {
    const first = await list("?limit=4");
    expect(first.items).toHaveLength(4);
    const rest = await list(`?limit=4&cursor=${first.nextCursor}`);
    expect(rest.nextCursor).toBeNull();
    expect([...first.items, ...rest.items].map((d: { id: string }) => d.id)).toEqual((await list()).items.map((d: { id: string }) => d.id));
  });

  it("forgets denials not seen for DENIAL_RETENTION_DAYS (30) when the environment reports", async () => {
    const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();
    await send([
      admissionEvent({ uid: "old-31", owner: { kind: "Deployment", name: "gone" }, firstSeenAt: daysAgo(31), lastSeenAt: daysAgo(31) }),
      admissionEvent({ uid: "old-29", owner: { kind: "Deployment", name: "kept" }, firstSeenAt: daysAgo(29), lastSeenAt: daysAgo(29) }),
    ]);
    const names = (await list("?limit=100")).items.map((d: { workload: { name: string } }) => d.workload.name);
    expect(names).toContain("kept");
    expect(names).not.toContain("gone");
  });
});
