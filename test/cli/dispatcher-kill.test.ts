// The API process (npm start) killed with SIGKILL in the middle of sending webhooks, then started
// again: nothing is lost. Real processes on PostgreSQL through the Neon driver, a real receiver
// that verifies every signature and holds the first requests open so the kill lands mid-send.
// The dead process's claims are leases (WEBHOOK_TIMEOUT_MS + 30 s): the new process delivers them
// once they expire, with the same webhook-id, so a receiver deduplicating on it processes each once.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquirePostgres, type TestPostgres } from "../harness/postgres.ts";
import { startReceiver, type Receiver } from "../harness/webhook-receiver.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

describe("npm start killed mid-dispatch", () => {
  let pg: TestPostgres;
  let database: Awaited<ReturnType<TestPostgres["createDatabase"]>>;
  let receiver: Receiver;
  let env: Record<string, string>;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    pg = await acquirePostgres();
    database = await pg.createDatabase();
    receiver = await startReceiver();
    env = {
      PATH: process.env.PATH ?? "",
      PORT: "0",
      LOG_LEVEL: "info",
      DATABASE_URL: database.url,
      NEON_WS_PROXY: pg.proxy,
      DEV_JWT_SECRET: "dispatcher-kill-test-secret-of-32-bytes!",
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOW_PRIVATE: "true",
      WEBHOOK_DISPATCH_INTERVAL_MS: "200",
      WEBHOOK_TIMEOUT_MS: "1000",
    };
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    await receiver?.close();
    await database?.drop();
    await pg?.release();
  });

  /** npm start's entry point; resolves with its base URL once it listens. */
  async function start(): Promise<{ child: ChildProcess; base: string }> {
    const child = spawn(process.execPath, [join(root, "src/node.ts")], { env, stdio: ["ignore", "pipe", "pipe"] });
    children.push(child);
    let out = "";
    child.stderr!.on("data", (d) => (out += d));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        out += d;
        const m = /"port":(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      child.on("exit", (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    return { child, base: `http://127.0.0.1:${port}` };
  }
  const token = (tenant: string, role: string) =>
    spawnSync(process.execPath, [join(root, "src/cli/token.ts"), "--tenant", tenant, "--role", role], { encoding: "utf8", env }).stdout.trim();
  async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
    for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    }
  }

  it("a SIGKILL while requests are in flight loses nothing: after a restart every event arrives, each processed once", { timeout: 120_000 }, async () => {
    const first = await start();
    const admin = { authorization: `Bearer ${token("kill", "admin")}`, "content-type": "application/json" };
    const post = async (path: string, body: unknown, headers = admin) => {
      const res = await fetch(`${first.base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      return res.status === 204 ? undefined : ((await res.json()) as Record<string, string>);
    };
    const environment = await post("/v1/environments", { name: "prod" });
    const endpoint = await post("/v1/webhooks", { url: receiver.url, events: ["violation.opened"], deliveryMode: "per-violation" });
    receiver.secret = endpoint!.secret;
    const cred = await post(`/v1/environments/${environment!.id}/agent-credentials`, {});
    receiver.mode = "hang";
    const at = new Date().toISOString();
    const violations = [1, 2, 3].map((i) => ({
      group: "",
      version: "v1",
      kind: "Pod",
      namespace: "team-a",
      name: `web-${i}`,
      enforcementAction: "deny",
      message: `pod team-a/web-${i}: privileged`,
    }));
    await post(
      "/agent/v1/audit-report",
      {
        collectedAt: at,
        constraints: [
          {
            kind: "GatehousePrivilegedContainers",
            name: "privileged-containers",
            control: "privileged-containers",
            enforcementAction: "deny",
            auditTimestamp: at,
            totalViolations: 3,
            truncated: false,
            violations,
          },
        ],
      },
      { authorization: `Bearer ${cred!.secret}`, "content-type": "application/json" },
    );

    // The dispatcher has sent and is waiting on the receiver: kill the process there.
    await until("the first requests to arrive", () => receiver.received.length >= 1, 20_000);
    const died = new Promise((r) => first.child.on("exit", r));
    first.child.kill("SIGKILL");
    await died;
    const beforeRestart = receiver.processed().size;

    receiver.mode = "ok";
    await start();
    await until("every event to be processed", () => receiver.processed().size === 3, 90_000);
    const processed = [...receiver.processed().values()];
    expect(beforeRestart).toBe(0);
    expect(processed.every((r) => r.verified && r.body.type === "violation.opened")).toBe(true);
    expect(processed.map((r) => (r.body.data as { violation: { resource: { name: string } } }).violation.resource.name).sort()).toEqual([
      "web-1",
      "web-2",
      "web-3",
    ]);
    // Retries kept their webhook-id: every request the receiver ever saw is one of the three.
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set(receiver.processed().keys()));
  });
});
