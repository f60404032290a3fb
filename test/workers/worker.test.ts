// The API inside workerd (`wrangler dev`, local mode, offline), against the machine's PostgreSQL
// through the Neon driver and the WebSocket proxy: the Workers entry really serves the same app.
import { Pool } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gzipJson } from "../../src/db/gzip-json.ts";
import { constraintAudit, violation as agentViolation } from "../harness/agent-api.ts";
import { acquirePostgres, type TestPostgres } from "../harness/postgres.ts";
import { DEV_ISSUER, devSecretToken } from "../harness/tokens.ts";
import { startReceiver } from "../harness/webhook-receiver.ts";
import { startWranglerDev, type WranglerDev } from "../harness/wrangler-dev.ts";
import { startWsProxy, type WsProxy } from "../harness/wsproxy.ts";

const SECRET = "workers-test-secret-0123456789abcdef";

const token = (tenant: string, role: string) => devSecretToken(SECRET, tenant, role, { ttlSeconds: 600 });

describe("the API in workerd (wrangler dev) on PostgreSQL through the Neon driver", () => {
  let pg: TestPostgres;
  let db: { name: string; url: string; drop(): Promise<void> };
  // The Worker's own WebSocket proxy: what it counts are the connections the Worker opened.
  let proxy: WsProxy;
  let dev: WranglerDev;
  let base: string;
  const output = () => dev.output();

  beforeAll(async () => {
    pg = await acquirePostgres();
    db = await pg.createDatabase();
    proxy = await startWsProxy();
    // Webhooks to a receiver on loopback over http: allowed here as in development.
    const vars = {
      DATABASE_URL: db.url,
      NEON_WS_PROXY: proxy.address,
      DEV_JWT_SECRET: SECRET,
      JWT_ISSUER: DEV_ISSUER,
      LOG_LEVEL: "warn",
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOW_PRIVATE: "true",
    };
    // Ready when /healthz answers through the worker (which needs the database too).
    dev = await startWranglerDev(vars, { extraArgs: ["--test-scheduled"] });
    base = dev.base;
  }, 120_000);

  afterAll(async () => {
    await dev?.stop();
    await proxy?.close();
    await db?.drop();
    await pg?.release();
  });

  it("serves the OpenAPI document and problem+json errors", async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string };
    expect(doc.openapi).toBe("3.1.0");
    const res = await fetch(`${base}/v1/tenant`);
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("serves the console and its vendor files from the assets binding, and /docs without a CDN", async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toContain("text/html");
    expect(await index.text()).toContain('<script type="module" src="/console/main.js"></script>');
    const main = await fetch(`${base}/console/main.js`);
    expect(main.status).toBe(200);
    expect(await main.text()).toContain('from "./settings.js"');
    const preact = await fetch(`${base}/console/vendor/preact.mjs`);
    expect(preact.status).toBe(200);
    expect(preact.headers.get("content-type")).toContain("javascript");
    const docs = await (await fetch(`${base}/docs`)).text();
    expect(docs).toContain('src="/console/vendor/scalar.js"');
    expect(docs).not.toMatch(/cdn\.jsdelivr|unpkg/);
    expect((await fetch(`${base}/console/vendor/scalar.js`)).status).toBe(200);
    // The development sign-in exists here only because DEV_JWT_SECRET stands in for a JWKS.
    expect(await (await fetch(`${base}/console/config.json`)).json()).toEqual({ signIn: { mode: "development" } });
  });

  it("creates an environment, reads and updates its settings with ETags, and keeps tenants apart", async () => {
    const admin = { authorization: `Bearer ${await token("workers-acme", "admin")}`, "content-type": "application/json" };
    const created = await fetch(`${base}/v1/environments`, { method: "POST", headers: admin, body: JSON.stringify({ name: "prod-eu", preset: "baseline" }) });
    expect(created.status).toBe(201);
    const env = (await created.json()) as { id: string };

    const settings = await fetch(`${base}/v1/environments/${env.id}/settings`, { headers: admin });
    expect(settings.status).toBe(200);
    const etag = settings.headers.get("etag")!;
    expect(etag).toBe('"1"');
    expect((await fetch(`${base}/v1/environments/${env.id}/settings`, { headers: { ...admin, "if-none-match": etag } })).status).toBe(304);

    const body = ((await settings.json()) as { settings: any }).settings;
    body.controls.privilegedContainers.enforcementAction = "warn";
    const put = await fetch(`${base}/v1/environments/${env.id}/settings`, {
      method: "PUT",
      headers: { ...admin, "if-match": etag },
      body: JSON.stringify({ settings: body }),
    });
    expect(put.status).toBe(200);
    expect(put.headers.get("etag")).toBe('"2"');
    const stale = await fetch(`${base}/v1/environments/${env.id}/settings`, {
      method: "PUT",
      headers: { ...admin, "if-match": etag },
      body: JSON.stringify({ settings: body }),
    });
    expect(stale.status).toBe(412);

    const other = { authorization: `Bearer ${await token("workers-other", "admin")}` };
    expect((await fetch(`${base}/v1/environments/${env.id}/settings`, { headers: other })).status).toBe(404);
  });

  it("a poll opens one database connection (ended after the response) and a route without the database opens none", async () => {
    const admin = { authorization: `Bearer ${await token("workers-conns", "admin")}`, "content-type": "application/json" };
    const env = (await (await fetch(`${base}/v1/environments`, { method: "POST", headers: admin, body: JSON.stringify({ name: "polled" }) })).json()) as {
      id: string;
    };
    const cred = (await (await fetch(`${base}/v1/environments/${env.id}/agent-credentials`, { method: "POST", headers: admin, body: "{}" })).json()) as {
      secret: string;
    };
    const first = await fetch(`${base}/agent/v1/desired-state`, { headers: { authorization: `Bearer ${cred.secret}` } });
    expect(first.status).toBe(200);
    const poll = { authorization: `Bearer ${cred.secret}`, "if-none-match": first.headers.get("etag")! };

    const before = proxy.connections();
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${base}/agent/v1/desired-state`, { headers: poll });
      expect(res.status).toBe(304);
    }
    // One Pool per request, of one connection: not one per transaction or statement.
    expect(proxy.connections() - before).toBe(5);
    // ctx.waitUntil ends each one once its response is out: none is left open.
    for (let i = 0; i < 100 && proxy.open() > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(proxy.open()).toBe(0);

    const idle = proxy.connections();
    for (let i = 0; i < 5; i++) expect((await fetch(`${base}/console/config.json`)).status).toBe(200);
    expect(proxy.connections() - idle).toBe(0);
  });

  it("PostgreSQL refusing new connections (53300) → 503 problem+json with Retry-After, never a 500", async () => {
    const admin = { authorization: `Bearer ${await token("workers-full", "admin")}`, "content-type": "application/json" };
    const env = (await (await fetch(`${base}/v1/environments`, { method: "POST", headers: admin, body: JSON.stringify({ name: "full" }) })).json()) as {
      id: string;
    };
    const cred = (await (await fetch(`${base}/v1/environments/${env.id}/agent-credentials`, { method: "POST", headers: admin, body: "{}" })).json()) as {
      secret: string;
    };
    // The owner caps the database at 0 new connections: every request's own connection is refused.
    const owner = new Pool({ connectionString: pg.urlFor("postgres"), max: 1 });
    owner.on("error", () => {});
    await owner.query(`alter database "${db.name}" connection limit 0`);
    try {
      for (const [path, headers] of [
        ["/agent/v1/desired-state", { authorization: `Bearer ${cred.secret}` }],
        [`/v1/environments/${env.id}`, admin],
      ] as const) {
        const res = await fetch(`${base}${path}`, { headers });
        expect(res.status, path).toBe(503);
        expect(res.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
        expect(res.headers.get("content-type")).toContain("application/problem+json");
        expect(((await res.json()) as { status: number }).status).toBe(503);
      }
    } finally {
      await owner.query(`alter database "${db.name}" connection limit -1`);
      await owner.end();
    }
    expect((await fetch(`${base}/agent/v1/desired-state`, { headers: { authorization: `Bearer ${cred.secret}` } })).status).toBe(200);
  });

  it("the agent's audit report is stored (gzipped) and diffed into violations inside workerd", async () => {
    const admin = { authorization: `Bearer ${await token("workers-acme", "admin")}`, "content-type": "application/json" };
    const created = await fetch(`${base}/v1/environments`, { method: "POST", headers: admin, body: JSON.stringify({ name: "audited" }) });
    const env = (await created.json()) as { id: string };
    const cred = (await (await fetch(`${base}/v1/environments/${env.id}/agent-credentials`, { method: "POST", headers: admin, body: "{}" })).json()) as {
      secret: string;
    };
    const at = new Date().toISOString();
    // One deny violation of privileged-containers, collected now.
    const violation = agentViolation(0, { namespace: "team-a", name: "web-1", message: "pod team-a/web-1: privileged" });
    const report = { collectedAt: at, constraints: [constraintAudit({ auditTimestamp: at, totalViolations: 1, violations: [violation] }, 0)] };
    const posted = await fetch(`${base}/agent/v1/audit-report`, {
      method: "POST",
      headers: { authorization: `Bearer ${cred.secret}`, "content-type": "application/json" },
      body: JSON.stringify(report),
    });
    expect(posted.status, await posted.text()).toBe(204);

    const stored = (await (await fetch(`${base}/v1/environments/${env.id}/audit-report`, { headers: admin })).json()) as { constraints: unknown[] };
    expect(stored.constraints).toEqual(report.constraints);
    const page = (await (await fetch(`${base}/v1/violations?environment=${env.id}`, { headers: admin })).json()) as {
      items: { state: string; resource: { name: string }; lastSeenAt: string }[];
    };
    expect(page.items).toMatchObject([{ state: "open", resource: { name: "web-1" }, lastSeenAt: at }]);
  });

  it("an audit report sent with Prefer: respond-async is 202 at once and applied after the response (waitUntil)", async () => {
    const { admin, env, secret } = await auditedEnvironment("workers-async");
    const at = new Date().toISOString();
    const v = agentViolation(0, { namespace: "team-a", name: "web-2" });
    const report = { collectedAt: at, constraints: [constraintAudit({ auditTimestamp: at, totalViolations: 1, violations: [v] }, 0)] };
    const posted = await fetch(`${base}/agent/v1/audit-report`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json", prefer: "respond-async" },
      body: JSON.stringify(report),
    });
    expect(posted.status, await posted.text()).toBe(202);
    expect(posted.headers.get("preference-applied")).toBe("respond-async");
    expect(await openViolations(admin, env.id), output()).toEqual(["web-2"]);
  });

  it("the Cron Trigger's scheduled handler resumes an audit report left unfinished after its 202", async () => {
    const { admin, env } = await auditedEnvironment("workers-resume");
    const at = new Date(Date.now() - 120_000).toISOString();
    const v = agentViolation(0, { namespace: "team-a", name: "web-3" });
    const report = { collectedAt: at, constraints: [constraintAudit({ auditTimestamp: at, totalViolations: 1, violations: [v] }, 0)] };
    // What a Worker that stopped right after storing it leaves: the report, unfinished, two minutes old.
    const pool = new Pool({ connectionString: db.url, max: 1 });
    try {
      const c = await pool.connect();
      try {
        await c.query("select set_config('app.system', 'on', false)");
        await c.query(
          `insert into audit_reports (environment_id, tenant_id, report, total_violations, received_at, collected_at)
           select id, tenant_id, $2, 1, $3, $3 from environments where id = $1`,
          [env.id, gzipJson(report), at],
        );
      } finally {
        c.release();
      }
    } finally {
      await pool.end();
    }
    expect((await fetch(`${base}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    expect(await openViolations(admin, env.id), output()).toEqual(["web-3"]);
  });

  /** A new environment of `tenant` and its agent's secret. */
  async function auditedEnvironment(tenant: string) {
    const admin = { authorization: `Bearer ${await token(tenant, "admin")}`, "content-type": "application/json" };
    const env = (await (await fetch(`${base}/v1/environments`, { method: "POST", headers: admin, body: JSON.stringify({ name: "audited" }) })).json()) as {
      id: string;
    };
    const cred = (await (await fetch(`${base}/v1/environments/${env.id}/agent-credentials`, { method: "POST", headers: admin, body: "{}" })).json()) as {
      secret: string;
    };
    return { admin, env, secret: cred.secret };
  }

  /** The names of the environment's open violations, once there are any (up to 15 s). */
  async function openViolations(admin: Record<string, string>, environmentId: string): Promise<string[]> {
    let names: string[] = [];
    for (let i = 0; i < 60 && names.length === 0; i++) {
      if (i) await new Promise((r) => setTimeout(r, 250));
      const page = (await (await fetch(`${base}/v1/violations?environment=${environmentId}&state=open`, { headers: admin })).json()) as {
        items: { resource: { name: string } }[];
      };
      names = page.items.map((x) => x.resource.name);
    }
    return names;
  }

  it("the Cron Trigger's scheduled handler runs the webhook dispatcher: a queued ping reaches a real receiver, signed", async () => {
    const receiver = await startReceiver();
    try {
      const admin = { authorization: `Bearer ${await token("workers-hooks", "admin")}`, "content-type": "application/json" };
      const created = await fetch(`${base}/v1/webhooks`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ url: receiver.url, events: ["violation.opened"] }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      const endpoint = (await created.json()) as { id: string; secret: string };
      receiver.secret = endpoint.secret;
      expect((await fetch(`${base}/v1/webhooks/${endpoint.id}/ping`, { method: "POST", headers: admin })).status).toBe(202);
      // Queued in the outbox, not sent by the request itself.
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.received).toHaveLength(0);

      // What Cloudflare's cron would do (wrangler dev --test-scheduled exposes it).
      expect((await fetch(`${base}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
      for (let i = 0; i < 60 && receiver.received.length === 0; i++) await new Promise((r) => setTimeout(r, 250));
      expect(receiver.received, output()).toHaveLength(1);
      expect(receiver.received[0]).toMatchObject({ verified: true, body: { type: "webhook.ping", version: 1 } });
    } finally {
      await receiver.close();
    }
  });
  it("the Cron Trigger's scheduled handler also takes due rollout steps, as revisions by gatehouse:rollout", async () => {
    const admin = { authorization: `Bearer ${await token("workers-rollout", "admin")}`, "content-type": "application/json" };
    const env = (await (await fetch(`${base}/v1/environments`, { method: "POST", headers: admin, body: JSON.stringify({ name: "rolling" }) })).json()) as {
      id: string;
    };
    const patched = await fetch(`${base}/v1/environments/${env.id}/settings/controls/privilegedContainers`, {
      method: "PATCH",
      headers: admin,
      body: JSON.stringify({ enabled: true, enforcementAction: "dryrun" }),
    });
    expect(patched.status, await patched.clone().text()).toBe(200);
    // A step at a time already past: due on the next trigger, whatever the audit shows.
    const body = { control: "privilegedContainers", steps: [{ to: "warn", when: { at: new Date(Date.now() - 60_000).toISOString() } }] };
    const created = await fetch(`${base}/v1/environments/${env.id}/rollouts`, { method: "POST", headers: admin, body: JSON.stringify(body) });
    expect(created.status, await created.clone().text()).toBe(201);
    const plan = (await created.json()) as { id: string };
    expect((await fetch(`${base}/__scheduled?cron=*+*+*+*+*`)).status).toBe(200);
    let got: { state: string; currentAction: string; steps: { by: string | null }[] } | undefined;
    for (let i = 0; i < 60; i++) {
      got = (await (await fetch(`${base}/v1/environments/${env.id}/rollouts/${plan.id}`, { headers: admin })).json()) as typeof got;
      if (got!.state === "completed") break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(got, output()).toMatchObject({ state: "completed", currentAction: "warn", steps: [{ by: "gatehouse:rollout" }] });
  });
});
