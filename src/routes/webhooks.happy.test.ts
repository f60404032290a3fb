// /v1/webhooks: create (secret once), list, get, update, rotate, delete, what each leaves in the
// audit log; deliveries and their attempt log; ping and redeliver through a real receiver.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { startReceiver, type Receiver } from "../../test/harness/webhook-receiver.ts";
import { createDispatcher } from "../services/webhook-dispatcher.ts";
import * as routes from "../../test/harness/routes.ts";
import * as routeDefs from "../../test/harness/routes.ts";

describe.each(backends())("/v1/webhooks ($name)", (backend) => {
  let api: TestApi;
  let receiver: Receiver;
  beforeAll(async () => {
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true } });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await api?.close();
  });
  const dispatcher = () => createDispatcher({ db: api.db, config: { ...api.config.webhooks!, timeoutMs: 2000 }, pollIntervalSeconds: 30 });

  const create = async (token: string, body: Record<string, unknown>) => {
    const res = await api.call(routes.webhooks.create, "/v1/webhooks", { token, body });
    expect(res.status, await res.clone().text()).toBe(201);
    return json(res);
  };

  it("create → 201 with the secret once; list and get never show it; update, rotate, delete; all audited without secrets", async () => {
    const token = await api.token("wh-crud", "admin", { sub: "alice@wh-crud" });
    const env = await createEnvironment(api, "wh-crud", { name: "prod" });
    const made = await create(token, {
      url: receiver.url,
      description: "  pager  ",
      events: ["violation.opened", "settings.applied"],
      environmentIds: [env.id],
    });
    expect(made).toEqual({
      id: expect.any(String),
      url: receiver.url,
      description: "pager",
      events: ["violation.opened", "settings.applied"],
      environmentIds: [env.id],
      enabled: true,
      deliveryMode: "digest",
      format: "standard",
      controls: null,
      enforcementActions: null,
      rateLimitPerSecond: null,
      failing: false,
      failingSince: null,
      consecutiveFailures: 0,
      createdBy: "alice@wh-crud",
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const { secret, ...shown } = made;
    const list = await api.request("GET", "/v1/webhooks", { token });
    const listText = await list.text();
    expect(listText).not.toContain(secret.slice(6));
    expect(JSON.parse(listText)).toEqual({ items: [shown], nextCursor: null });
    expect(await json(await api.call(routes.webhooks.get, `/v1/webhooks/${made.id}`, { token }))).toEqual(shown);

    const patched = await json(
      await api.call(routeDefs.webhooks.update, `/v1/webhooks/${made.id}`, {
        token,
        body: { enabled: false, environmentIds: null, events: ["environment.offline"] },
      }),
    );
    expect(patched).toMatchObject({ enabled: false, environmentIds: null, events: ["environment.offline"], url: receiver.url, description: "pager" });
    // Delivery mode, format, filters and rate limit change and clear like the rest.
    const tuned = {
      deliveryMode: "per-violation",
      format: "slack",
      controls: ["seccomp", "capabilities"],
      enforcementActions: ["deny"],
      rateLimitPerSecond: 0.5,
    };
    expect(await json(await api.call(routes.webhooks.update, `/v1/webhooks/${made.id}`, { token, body: tuned }))).toMatchObject({ ...tuned, enabled: false });
    const cleared = { controls: null, enforcementActions: null, rateLimitPerSecond: null };
    expect(await json(await api.call(routes.webhooks.update, `/v1/webhooks/${made.id}`, { token, body: cleared }))).toMatchObject({
      ...cleared,
      deliveryMode: "per-violation",
      format: "slack",
    });

    const rotated = await json(await api.call(routes.webhooks.rotate, `/v1/webhooks/${made.id}/rotate-secret`, { token }));
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(secret);

    expect((await api.request("DELETE", `/v1/webhooks/${made.id}`, { token })).status).toBe(204);
    expect((await api.request("GET", `/v1/webhooks/${made.id}`, { token })).status).toBe(404);

    const audit = await api.request("GET", `/v1/audit-log?targetId=${made.id}`, { token });
    const auditText = await audit.text();
    expect(auditText).not.toContain(secret.slice(6));
    expect(auditText).not.toContain(rotated.secret.slice(6));
    expect(JSON.parse(auditText).items.map((e: { action: string }) => e.action)).toEqual([
      "webhook.delete",
      "webhook.rotate_secret",
      "webhook.update",
      "webhook.update",
      "webhook.update",
      "webhook.create",
    ]);
  });

  it("pages through endpoints with the cursor", async () => {
    const token = await api.token("wh-pages", "admin");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.unshift((await create(token, { url: `${receiver.url}/${i}`, events: ["violation.opened"] })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { id: string }[]; nextCursor: string | null } = await json(
        await api.call(routeDefs.webhooks.list, `/v1/webhooks?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { token }),
      );
      seen.push(...page.items.map((e: { id: string }) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(ids);
  });

  it("ping → 202, delivered signed; the delivery and its attempt log; redeliver sends it again with the same webhook-id", async () => {
    const token = await api.token("wh-ping", "admin");
    const ep = await create(token, { url: receiver.url, events: ["violation.opened"] });
    receiver.secret = ep.secret;
    const res = await api.call(routes.webhooks.ping, `/v1/webhooks/${ep.id}/ping`, { token });
    expect(res.status).toBe(202);
    const queued = await json(res);
    expect(queued).toMatchObject({
      endpointId: ep.id,
      eventType: "webhook.ping",
      state: "pending",
      attempts: 0,
      payload: { type: "webhook.ping", version: 1, data: { endpointId: ep.id } },
    });
    const before = receiver.received.length;
    await dispatcher().runOnce();
    const got = receiver.received.slice(before);
    expect(got).toEqual([
      {
        id: queued.id,
        timestamp: expect.any(String),
        verified: true,
        body: { type: "webhook.ping", version: 1, timestamp: (queued.payload as { timestamp: string }).timestamp, data: { endpointId: ep.id } },
      },
    ]);

    const detail = await json(await api.call(routes.webhooks.delivery, `/v1/webhooks/${ep.id}/deliveries/${queued.id}`, { token }));
    expect(detail).toMatchObject({ state: "succeeded", attempts: 1, lastStatus: 204, lastError: null, nextAttemptAt: null, completedAt: expect.any(String) });
    expect(detail.attemptLog).toEqual([{ attempt: 1, at: expect.any(String), statusCode: 204, latencyMs: expect.any(Number), error: null }]);
    const list = await json(await api.call(routes.webhooks.deliveries, `/v1/webhooks/${ep.id}/deliveries`, { token }));
    expect(list.items.map((d: { id: string }) => d.id)).toEqual([queued.id]);

    const again = await api.call(routes.webhooks.redeliver, `/v1/webhooks/${ep.id}/deliveries/${queued.id}/redeliver`, { token });
    expect(again.status).toBe(202);
    expect(await json(again)).toMatchObject({ id: queued.id, state: "pending" });
    await dispatcher().runOnce();
    expect(receiver.received.slice(before).map((r) => [r.id, r.verified])).toEqual([
      [queued.id, true],
      [queued.id, true],
    ]);
    expect(receiver.processed().has(queued.id)).toBe(true);
    const after = await json(await api.call(routes.webhooks.delivery, `/v1/webhooks/${ep.id}/deliveries/${queued.id}`, { token }));
    expect(after.attemptLog.map((a: { attempt: number }) => a.attempt)).toEqual([1, 2]);
  });

  it("events reach the endpoints whose event and environment filters match, and only enabled ones", async () => {
    const t = "wh-filter";
    const token = await api.token(t, "admin");
    const prod = await createEnvironment(api, t, { name: "prod" });
    const dev = await createEnvironment(api, t, { name: "dev" });
    const all = await create(token, { url: `${receiver.url}/all`, events: ["settings.applied"] });
    const prodOnly = await create(token, { url: `${receiver.url}/prod`, events: ["settings.applied"], environmentIds: [prod.id] });
    const otherEvent = await create(token, { url: `${receiver.url}/other`, events: ["violation.opened"] });
    const off = await create(token, { url: `${receiver.url}/off`, events: ["settings.applied"], enabled: false });
    for (const env of [prod, dev]) {
      const cred = await createAgentCredential(api, t, env.id);
      const status = {
        agentVersion: "0.1.0",
        kubernetesVersion: null,
        gatekeeper: { installed: true, version: null },
        appliedRevision: 1,
        desiredRevision: 1,
        lastSuccessfulSyncAt: null,
        error: null,
        objects: [],
        templates: [],
      };
      expect((await api.request("POST", "/agent/v1/status", { token: cred.secret, body: status })).status).toBe(204);
      // The same applied revision again is not a new event.
      expect((await api.request("POST", "/agent/v1/status", { token: cred.secret, body: status })).status).toBe(204);
    }
    const count = async (id: string) =>
      (await json(await api.call(routes.webhooks.deliveries, `/v1/webhooks/${id}/deliveries`, { token }))).items as {
        eventType: string;
        payload: { data: { environment: { name: string }; revision: number; previousRevision: number | null } };
      }[];
    expect((await count(all.id)).map((d) => d.payload.data.environment.name).sort()).toEqual(["dev", "prod"]);
    expect(
      (await count(prodOnly.id)).map((d) => [d.eventType, d.payload.data.environment.name, d.payload.data.revision, d.payload.data.previousRevision]),
    ).toEqual([["settings.applied", "prod", 1, null]]);
    expect(await count(otherEvent.id)).toEqual([]);
    expect(await count(off.id)).toEqual([]);
  });
});
