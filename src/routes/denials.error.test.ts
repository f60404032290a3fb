// Bad input on the denial routes: every malformed admission-event batch is a 400 naming the field
// and writes nothing; bad filters, cursors and ids are 400s naming the parameter; an unknown id is 404.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admissionEvent, createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { MAX_ADMISSION_EVENTS } from "../protocol/admission.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routeDefs from "../../test/harness/routes.ts";

const T = "den-err";

describe.each(backends())("denial routes: errors ($name)", (backend) => {
  let api: TestApi;
  let agent: string;
  let viewer: string;
  beforeAll(async () => {
    // The production body limit (1 MiB): a full batch of events fits in it.
    api = await createTestApi(backend, { bodyLimitBytes: 1024 * 1024 });
    const env = await createEnvironment(api, T, { name: "prod" });
    agent = (await createAgentCredential(api, T, env.id)).secret;
    viewer = await api.token(T, "viewer");
  });
  afterAll(() => api?.close());

  const rows = async () => (await json(await api.call(routeDefs.denials.list, "/v1/denials?limit=100", { token: viewer }))).items.length;

  it.each([
    ["no events", { events: [] }, "events"],
    ["too many events", { events: Array.from({ length: MAX_ADMISSION_EVENTS + 1 }, (_, i) => admissionEvent({ uid: `u${i}` })) }, "events"],
    ["an unknown field", { events: [{ ...admissionEvent(), extra: 1 }] }, "events[0]"],
    ["an unknown top-level field", { events: [admissionEvent()], more: true }, ""],
    ["an action Gatekeeper has no Event for", { events: [admissionEvent({ action: "audit" as never })] }, "events[0].action"],
    ["a source that is neither the webhook nor the API server", { events: [admissionEvent({ source: "kubelet" as never })] }, "events[0].source"],
    ["a count of 0", { events: [admissionEvent({ count: 0 })] }, "events[0].count"],
    ["a count beyond int4", { events: [admissionEvent({ count: 2 ** 31 })] }, "events[0].count"],
    ["a date that is not one", { events: [admissionEvent({ lastSeenAt: "yesterday" })] }, "events[0].lastSeenAt"],
    ["an empty uid", { events: [admissionEvent({ uid: "" })] }, "events[0].uid"],
    ["an owner without a name", { events: [admissionEvent({ owner: { kind: "Deployment" } as never })] }, "events[0].owner.name"],
    ["a missing resource", { events: [{ ...admissionEvent(), resource: undefined }] }, "events[0].resource"],
  ])("400 for %s, naming %s; nothing written", async (_name, body, path) => {
    const before = await rows();
    const p = await expectProblem(await api.request("POST", AGENT_PATHS.admissionEvents, { token: agent, body }), 400);
    expect(
      p.errors?.map((e) => e.path).some((e) => e.startsWith(path)),
      JSON.stringify(p.errors),
    ).toBe(true);
    expect(await rows()).toBe(before);
  });

  it("400 for a body that is not JSON, 415 for another content type", async () => {
    await expectProblem(await api.request("POST", AGENT_PATHS.admissionEvents, { token: agent, body: "{not json" }), 400);
    await expectProblem(
      await api.request("POST", AGENT_PATHS.admissionEvents, { token: agent, body: "events=1", headers: { "content-type": "text/plain" } }),
      415,
    );
  });

  it.each([
    ["action=refused", "action"],
    ["since=last-week", "since"],
    ["environment=prod", "environment"],
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["cursor=bm90LWEtY3Vyc29y", "cursor"],
    ["unknown=1", ""],
  ])("GET /v1/denials?%s is 400 naming %s", async (query, path) => {
    const p = await expectProblem(await api.request("GET", `/v1/denials?${query}`, { token: viewer }), 400);
    if (path) expect(p.errors?.map((e) => e.path)).toContain(path);
  });

  it("summary: an unknown grouping is 400; an environment that does not exist is 404", async () => {
    const p = await expectProblem(await api.request("GET", "/v1/denials/summary?by=team", { token: viewer }), 400);
    expect(p.errors?.map((e) => e.path)).toContain("by");
    await expectProblem(await api.request("GET", `/v1/environments/${crypto.randomUUID()}/denials/summary`, { token: viewer }), 404);
    await expectProblem(await api.request("GET", "/v1/environments/prod/denials/summary", { token: viewer }), 400);
  });

  it("one denial: 400 for an id that is not a UUID, 404 for an unknown one", async () => {
    await expectProblem(await api.request("GET", "/v1/denials/abc", { token: viewer }), 400);
    await expectProblem(await api.request("GET", `/v1/denials/${crypto.randomUUID()}`, { token: viewer }), 404);
  });
});
