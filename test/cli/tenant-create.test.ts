// npm run tenant:create as an operator runs it: a real process against a real database (PGlite in
// a data directory, PostgreSQL through the Neon driver), then the API in closed provisioning on
// that database. Spawned asynchronously: the PostgreSQL proxy runs in this process.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../harness/api.ts";
import { backends } from "../harness/backends.ts";
import { acquirePostgres } from "../harness/postgres.ts";
import * as routes from "../harness/routes.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function tenantCreate(env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "src/cli/tenant-create.ts"), ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("npm run tenant:create: arguments", () => {
  it.each([
    [[], /usage/],
    [["a", "b"], /usage/],
    [["Acme Corp"], /<slug>/],
    [["acme", "--name", " "], /--name/],
    [["acme", "--bogus"], /bogus/],
  ])("refuses %j before touching a database", async (args, message) => {
    const out = await tenantCreate({ GATEHOUSE_DATA_DIR: join(tmpdir(), "gatehouse-never-created") }, ...args);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(out.stdout).toBe("");
  });
});

describe.each(backends())("npm run tenant:create ($name)", ({ name }) => {
  let env: Record<string, string>;
  let open: () => Promise<Database>;
  let release = async () => {};
  let api: TestApi;
  beforeAll(async () => {
    if (name === "postgres") {
      const pg = await acquirePostgres();
      const created = await pg.createDatabase();
      env = { DATABASE_URL: created.url, NEON_WS_PROXY: pg.proxy };
      open = () => openDatabase({ url: created.url, wsProxy: pg.proxy });
      release = async () => {
        await created.drop();
        await pg.release();
      };
    } else {
      const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-tenant-create-"));
      env = { GATEHOUSE_DATA_DIR: dataDir };
      open = () => openDatabase({ dataDir });
    }
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await release();
  });

  it("creates the tenant (audited as cli:<user>), which then signs in under closed provisioning; a second run changes nothing", async () => {
    const first = await tenantCreate(env, "cli-made", "--name", "CLI Made");
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    const made = JSON.parse(first.stdout) as { id: string; slug: string; created: boolean };
    expect(made).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), slug: "cli-made", created: true });

    const again = await tenantCreate(env, "cli-made");
    expect(again.status).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ ...made, created: false });
    expect(again.stderr).toMatch(/already exists/);

    // The CLI has exited (a PGlite directory has one user at a time); now the API, closed.
    api = await createTestApi(open, { tenantProvisioning: "closed" });
    const token = await api.token("cli-made", "admin", { sub: "first-admin" });
    const tenant = await json(await api.call(routes.tenant.route, "/v1/tenant", { token }));
    expect(tenant).toMatchObject({ id: made.id, slug: "cli-made", name: "CLI Made", role: "admin" });
    const log = await json(await api.call(routes.auditLog.route, "/v1/audit-log?action=tenant.create", { token }));
    expect(log.items).toEqual([
      expect.objectContaining({
        actor: `cli:${userInfo().username}`,
        targetType: "tenant",
        targetId: made.id,
        after: { slug: "cli-made", name: "CLI Made", provisioning: "cli" },
      }),
    ]);
    await expectProblem(await api.request("GET", "/v1/tenant", { token: await api.token("cli-never-made", "admin") }), 403);
  }, 120_000);
});
