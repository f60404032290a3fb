// NEON_PIPELINE_CONNECT (src/worker.ts, local WebSocket proxy only) turns the Neon driver's
// pipelined connect back on for a local server that asks for a cleartext password, as
// bench/workers' PgBouncer does. Any value but "password" must stop the Worker with a message that
// names the variable, not fall back silently to one behaviour or the other.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquirePostgres, type TestPostgres } from "../harness/postgres.ts";
import { DEV_ISSUER } from "../harness/tokens.ts";
import { startWranglerDev, type WranglerDev } from "../harness/wrangler-dev.ts";
import { startWsProxy, type WsProxy } from "../harness/wsproxy.ts";

const SECRET = "workers-pipeline-connect-test-secret-0123456789";

describe("NEON_PIPELINE_CONNECT in workerd", () => {
  let pg: TestPostgres;
  let db: { name: string; url: string; drop(): Promise<void> };
  let proxy: WsProxy;
  let dev: WranglerDev;

  beforeAll(async () => {
    pg = await acquirePostgres();
    db = await pg.createDatabase();
    proxy = await startWsProxy();
    dev = await startWranglerDev(
      {
        DATABASE_URL: db.url,
        NEON_WS_PROXY: proxy.address,
        NEON_PIPELINE_CONNECT: "always",
        DEV_JWT_SECRET: SECRET,
        JWT_ISSUER: DEV_ISSUER,
        LOG_LEVEL: "warn",
      },
      // The Worker answers nothing but 503 here: ready once the asset layer (before it) serves a file.
      { readyPath: "/console/main.js" },
    );
  }, 120_000);

  afterAll(async () => {
    await dev?.stop();
    await proxy?.close();
    await db?.drop();
    await pg?.release();
  });

  it('a value other than "password" → 503 problem+json naming it, and no database connection', async () => {
    for (const path of ["/healthz", "/console/config.json", "/agent/v1/desired-state"]) {
      const res = await fetch(`${dev.base}${path}`);
      expect(res.status, path).toBe(503);
      expect(res.headers.get("content-type"), path).toContain("application/problem+json");
      const body = (await res.json()) as { status: number; detail: string };
      expect(body.status).toBe(503);
      expect(body.detail).toContain("NEON_PIPELINE_CONNECT");
      expect(body.detail).toContain('"always"');
    }
    expect(proxy.connections()).toBe(0);
  });
});
