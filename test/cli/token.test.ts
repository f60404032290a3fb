// npm run token and npm start as a user runs them: real processes sharing a data dir, real HTTP.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));
const token = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [join(root, "src/cli/token.ts"), ...args], { encoding: "utf8", env: { PATH: process.env.PATH, ...env } });

describe("npm run token", () => {
  it("prints a dev token with the requested claims", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-token-"));
    const out = token({ GATEHOUSE_DATA_DIR: dataDir }, "--tenant", "acme", "--role", "editor", "--sub", "alice", "--ttl", "15m");
    expect(out.stderr).toBe("");
    expect(out.status).toBe(0);
    const claims = decodeJwt(out.stdout.trim());
    expect(claims).toMatchObject({ sub: "alice", tenant: "acme", role: "editor", iss: "gatehouse-dev", aud: "gatehouse" });
    expect(claims.exp! - claims.iat!).toBe(900);
  });

  it.each([
    [["--role", "admin"], /usage/],
    [["--tenant", "acme"], /usage/],
    [["--tenant", "Acme Corp", "--role", "admin"], /--tenant/],
    [["--tenant", "acme", "--role", "owner"], /--role/],
    [["--tenant", "acme", "--role", "admin", "--ttl", "forever"], /--ttl/],
    [["--tenant", "acme", "--role", "admin", "--bogus"], /bogus/],
    [["--tenant", "acme", "--role", "admin", "--ttl", "7d"], /JWT_MAX_LIFETIME_SECONDS/],
  ])("refuses %j", (args, message) => {
    const out = token({ GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), "gatehouse-token-")) }, ...args);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(message);
    expect(out.stdout).toBe("");
  });

  it("refuses when JWKS_URL is set: tokens then come from the IdP", () => {
    const out = token({ JWKS_URL: "https://idp.example/.well-known/jwks.json" }, "--tenant", "acme", "--role", "admin");
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/JWKS_URL/);
  });
});

describe("npm start", () => {
  it("serves the API with the same dev key as npm run token, and stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-start-"));
    const env = { PATH: process.env.PATH ?? "", GATEHOUSE_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "info" };
    const jwt = token(env, "--tenant", "acme", "--role", "admin", "--sub", "alice").stdout.trim();
    const server = spawn(process.execPath, [join(root, "src/node.ts")], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    server.stderr.on("data", (d) => (stderr += d));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = "";
        server.stdout.on("data", (d: Buffer) => {
          out += d;
          const m = /"port":(\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        server.on("exit", (code) => reject(new Error(`exited ${code}: ${stderr}${out}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const res = await fetch(`${base}/v1/tenant`, { headers: { authorization: `Bearer ${jwt}` } });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ slug: "acme", role: "admin", members: [{ subject: "alice" }] });
      expect((await fetch(`${base}/v1/tenant`)).headers.get("content-type")).toContain("application/problem+json");
      const exited = new Promise<number | null>((r) => server.on("exit", (code) => r(code)));
      server.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (server.exitCode === null) server.kill("SIGKILL");
    }
  });
});
