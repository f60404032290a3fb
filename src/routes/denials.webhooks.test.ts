// admission.denied / admission.warned, coalesced per denial row: one when a workload is first
// refused, none while the same refusal repeats within DENIAL_NOTIFY_WINDOW_SECONDS, one again when
// the message changes or after the window if it keeps happening; warn is its own event, dryrun
// none; only endpoints that subscribed get them; the payload names workload, control, message,
// count and first/last time.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admissionEvent, createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import type { OpenApiDocument } from "../../test/harness/openapi.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";

const T = "den-hooks";

describe.each(backends())("denial webhooks ($name)", (backend) => {
  let api: TestApi;
  let t = Date.now();
  let agent: string;
  let envId: string;
  let tenantId: string;
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => new Date(t), webhooks: { allowHttp: true, allowPrivate: true } });
    const env = await createEnvironment(api, T, { name: "prod" });
    envId = env.id;
    tenantId = await api.tenantId(T);
    agent = (await createAgentCredential(api, T, env.id)).secret;
    const admin = await api.token(T, "admin");
    const hook = (events: string[]) => api.request("POST", "/v1/webhooks", { token: admin, body: { url: "http://127.0.0.1:9/hook", events } });
    expect((await hook(["admission.denied", "admission.warned"])).status).toBe(201);
    expect((await hook(["violation.opened"])).status).toBe(201); // subscribed to something else: gets none
  });
  afterAll(() => api?.close());

  const send = async (...events: unknown[]) =>
    expect((await api.request("POST", AGENT_PATHS.admissionEvents, { token: agent, body: { events } })).status).toBe(200);
  const deliveries = async () =>
    (
      await api.db.asSystem((tx) =>
        tx.execute<{ event_type: string; payload: { data: { denial: Record<string, any>; environment: { id: string; name: string } } } }>(
          sql`select event_type, payload from webhook_deliveries where tenant_id = ${tenantId}::uuid and event_type like 'admission.%' order by created_at, seq`,
        ),
      )
    ).rows;
  const at = (ms: number) => new Date(ms).toISOString();

  it("one admission.denied when a workload is first refused, naming workload, control, message and count", async () => {
    await send(admissionEvent({ uid: "e1", count: 3, firstSeenAt: at(t - 60_000), lastSeenAt: at(t) }));
    const d = await deliveries();
    expect(d.map((x) => x.event_type)).toEqual(["admission.denied"]);
    expect(d[0]!.payload.data).toMatchObject({
      environment: { id: envId, name: "prod" },
      denial: {
        action: "deny",
        control: "privilegedContainers",
        severity: "critical",
        workload: { kind: "Deployment", name: "root-web" },
        message: admissionEvent().message,
        count: 3,
        namespace: "team-a",
      },
    });
  });

  it("none while the same refusal repeats within the window; one more after it, with the count since", async () => {
    t += 60_000;
    await send(
      admissionEvent({ uid: "e1", count: 9, firstSeenAt: at(t - 120_000), lastSeenAt: at(t) }),
      admissionEvent({ uid: "e2", count: 4, lastSeenAt: at(t) }),
    );
    expect(await deliveries()).toHaveLength(1);
    t += 3_600_000;
    await send(admissionEvent({ uid: "e3", count: 1, firstSeenAt: at(t), lastSeenAt: at(t) }));
    const d = await deliveries();
    expect(d.map((x) => x.event_type)).toEqual(["admission.denied", "admission.denied"]);
    expect(d[1]!.payload.data.denial.count).toBe(14);
  });

  it("none for a retry that differs only in the refused Pod's generated name", async () => {
    t += 1000;
    const name = "root-web-7c9d8f6b5d-zzzzz";
    await send(
      admissionEvent({
        uid: "e5",
        lastSeenAt: at(t),
        resource: { ...admissionEvent().resource, name },
        message: admissionEvent().message.replaceAll("root-web-7c9d8f6b5d-x2x7q", name),
      }),
    );
    expect(await deliveries()).toHaveLength(2);
  });

  it("one as soon as the message changes, even within the window", async () => {
    t += 1000;
    await send(
      admissionEvent({ uid: "e4", lastSeenAt: at(t), message: 'pod team-a/root-web-…: container "app": securityContext.privileged is true (new image)' }),
    );
    expect((await deliveries()).at(-1)!.payload.data.denial.message).toMatch(/new image/);
    expect(await deliveries()).toHaveLength(3);
  });

  it("warn is admission.warned; dryrun sends nothing", async () => {
    t += 1000;
    await send(
      admissionEvent({
        uid: "w1",
        action: "warn",
        constraintKind: "GatehouseHostNamespaces",
        constraintName: "host-namespaces",
        owner: { kind: "Deployment", name: "host-pid" },
        lastSeenAt: at(t),
      }),
      admissionEvent({ uid: "d1", action: "dryrun", owner: { kind: "Deployment", name: "trial" }, lastSeenAt: at(t) }),
    );
    const d = await deliveries();
    expect(d.map((x) => x.event_type)).toEqual(["admission.denied", "admission.denied", "admission.denied", "admission.warned"]);
    expect(d[3]!.payload.data.denial).toMatchObject({ action: "warn", control: "hostNamespaces", workload: { name: "host-pid" } });
    // The dryrun row is in the history all the same (read directly: the test's clock is hours ahead of any token).
    const trial = await api.db.asSystem((tx) => tx.execute(sql`select action from denials where tenant_id = ${tenantId}::uuid and workload_name = 'trial'`));
    expect(trial.rows).toEqual([{ action: "dryrun" }]);
  });

  it("documents both events in the OpenAPI document", async () => {
    const doc = await json<OpenApiDocument>(await api.request("GET", "/openapi.json"));
    expect(doc.components.schemas).toHaveProperty("AdmissionDeniedEvent");
    expect(doc.components.schemas).toHaveProperty("AdmissionWarnedEvent");
  });
});
