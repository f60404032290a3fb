// environment.offline and environment.online, from the dispatcher's sweep of agent heartbeats,
// against a real receiver that verifies every signature, on both databases. Each test has a
// database of its own: the sweep also tracks the API's own liveness (its passes), which a test
// driving the dispatcher's clock back and forth would otherwise share with the next test.
import { afterEach, describe, expect, it } from "vitest";
import { createAgentCredential, statusReport } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { startReceiver, type Receiver } from "../../test/harness/webhook-receiver.ts";
import { AGENT_PATHS, OFFLINE_AFTER_INTERVALS } from "../protocol/agent.ts";
import { createDispatcher } from "./webhook-dispatcher.ts";
import * as routes from "../../test/harness/routes.ts";

const POLL_S = 30;
const THRESHOLD_MS = OFFLINE_AFTER_INTERVALS * POLL_S * 1000;

// Each test makes a few dozen dispatcher passes; on PGlite on a busy machine that takes a while.
describe.each(backends())("environment liveness webhooks ($name)", { timeout: 180_000 }, (backend) => {
  let api: TestApi | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    await api?.close();
  });

  async function setup(tenant: string) {
    // One clock for the API (heartbeats) and the dispatcher: ours.
    let t = Date.now();
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true }, now: () => new Date(t) });
    receiver = await startReceiver();
    const a = api;
    const token = await a.token(tenant, "admin");
    const env = await createEnvironment(a, tenant, { name: "prod" });
    const cred = await createAgentCredential(a, tenant, env.id);
    const res = await a.call(routes.webhooks.create, "/v1/webhooks", {
      token,
      body: { url: receiver.url, events: ["environment.offline", "environment.online", "settings.applied"] },
    });
    expect(res.status).toBe(201);
    const ep = await json(res);
    receiver.secret = ep.secret;
    const heartbeat = async () => expect((await a.request("POST", AGENT_PATHS.status, { token: cred.secret, body: statusReport() })).status).toBe(204);
    // One dispatcher, as in one process.
    const d = createDispatcher({ db: a.db, config: a.config.webhooks!, now: () => new Date(t), pollIntervalSeconds: POLL_S });
    /** A pass at clock time `at`. */
    const pass = (at: number) => ((t = at), d.runOnce());
    /** Passes every 25 s (the API up all along) from `from` through `to`; the offline count. */
    const upFrom = async (from: number, to: number) => {
      let offline = 0;
      for (let at = from; at <= to; at += 25_000) offline += (await pass(at)).offline;
      if ((to - from) % 25_000) offline += (await pass(to)).offline;
      return offline;
    };
    const types = () => [...receiver!.processed().values()].map((r) => r.body.type);
    return { env, heartbeat, pass, upFrom, types, receiver, now: () => t };
  }

  it("environment.offline once per outage, only after the agent missed the threshold while the API was up", async () => {
    const s = await setup("wl-offline");
    await s.heartbeat();
    const seen = s.now();
    expect(await s.upFrom(seen, seen + THRESHOLD_MS - 10_000)).toBe(0);
    expect(await s.upFrom(seen + THRESHOLD_MS + 5_000, seen + THRESHOLD_MS + 5_000)).toBe(1);
    expect(await s.upFrom(seen + THRESHOLD_MS + 15_000, seen + 3 * THRESHOLD_MS)).toBe(0);
    expect(s.types()).toEqual(["settings.applied", "environment.offline"]);
    const off = [...s.receiver.processed().values()][1]!.body;
    expect(off).toMatchObject({ version: 1, data: { environment: { id: s.env.id, name: "prod" }, lastSeenAt: expect.any(String) } });
    expect(s.receiver.received.every((r) => r.verified)).toBe(true);
  });

  it("no environment.offline right after the API restarts: the time it was down does not count", async () => {
    const s = await setup("wl-restart");
    await s.heartbeat();
    const seen = s.now();
    expect(await s.upFrom(seen, seen + 30_000)).toBe(0);
    // The API is down for an hour (no passes); the agent could not report. The first passes after
    // the restart declare nothing, until the agent has had the whole threshold to report.
    const back = seen + 3_600_000;
    expect(await s.upFrom(back, back + THRESHOLD_MS - 10_000)).toBe(0);
    // It did not report in that time: now it is offline.
    expect(await s.upFrom(back + THRESHOLD_MS, back + THRESHOLD_MS)).toBe(1);
    expect(s.types()).toEqual(["settings.applied", "environment.offline"]);
  });

  it("environment.online when an agent an offline event was sent for reports again; then offline again on the next outage", async () => {
    const s = await setup("wl-online");
    await s.heartbeat();
    const seen = s.now();
    expect(await s.upFrom(seen, seen + THRESHOLD_MS + 10_000)).toBe(1);
    await s.heartbeat(); // back
    await s.pass(s.now() + 10_000);
    await s.heartbeat(); // and still there: no second online
    const again = s.now();
    expect(await s.upFrom(again + 10_000, again + THRESHOLD_MS + 10_000)).toBe(1);
    expect(s.types()).toEqual(["settings.applied", "environment.offline", "environment.online", "environment.offline"]);
    const online = [...s.receiver.processed().values()][2]!.body;
    expect(online).toMatchObject({
      version: 1,
      data: { environment: { id: s.env.id, name: "prod" }, silentSince: expect.any(String), lastSeenAt: expect.any(String) },
    });
    expect(Date.parse(online.data.lastSeenAt as string)).toBeGreaterThan(Date.parse(online.data.silentSince as string));
  });

  it("an agent that is merely late (no offline event sent) coming back sends nothing", async () => {
    const s = await setup("wl-late");
    await s.heartbeat();
    const seen = s.now();
    expect(await s.upFrom(seen, seen + THRESHOLD_MS - 10_000)).toBe(0);
    await s.heartbeat();
    expect(await s.upFrom(seen + THRESHOLD_MS, seen + THRESHOLD_MS + 60_000)).toBe(0);
    expect(s.types()).toEqual(["settings.applied"]);
  });
});
