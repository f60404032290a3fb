// Configuration from the environment, and the dev key file `npm start` and `npm run token` share.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLL_INTERVAL_SECONDS } from "../protocol/agent.ts";
import { ConfigError, DEFAULT_WEBHOOK_CONFIG, databaseOptions, loadConfig, parseEnv, webhookConfig } from "./config.ts";
import { DEV_KEY_FILE, loadOrCreateDevKey, mintDevToken } from "./dev-key.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "gatehouse-config-"));

describe("parseEnv", () => {
  it("has working defaults", () => {
    expect(parseEnv({})).toMatchObject({
      PORT: 8080,
      JWT_ISSUER: "gatehouse-dev",
      JWT_AUDIENCE: "gatehouse",
      CLOCK_SKEW_SECONDS: 30,
      BODY_LIMIT_BYTES: 1048576,
      AGENT_BODY_LIMIT_BYTES: 16 * 1024 * 1024,
      AGENT_POLL_INTERVAL_SECONDS: DEFAULT_POLL_INTERVAL_SECONDS,
      LOG_LEVEL: "info",
    });
    expect(parseEnv({ DATABASE_URL: "", JWKS_URL: " " })).toMatchObject({ DATABASE_URL: undefined, JWKS_URL: undefined });
  });

  it("names every bad variable", () => {
    expect(() => parseEnv({ PORT: "eighty", JWKS_URL: "ftp://idp", DEV_JWT_SECRET: "short", LOG_LEVEL: "loud" })).toThrow(ConfigError);
    try {
      parseEnv({ PORT: "eighty", JWKS_URL: "ftp://idp", DEV_JWT_SECRET: "short", LOG_LEVEL: "loud" });
    } catch (e) {
      for (const name of ["PORT", "JWKS_URL", "DEV_JWT_SECRET", "LOG_LEVEL"]) expect((e as Error).message).toContain(`${name}:`);
    }
  });
});

describe("token lifetime and tenant provisioning", () => {
  it("default to 24 h and auto, and reach the app config", async () => {
    expect(parseEnv({})).toMatchObject({ JWT_MAX_LIFETIME_SECONDS: 86_400, TENANT_PROVISIONING: "auto" });
    const cfg = await loadConfig({
      GATEHOUSE_DATA_DIR: tmp(),
      DEV_JWT_SECRET: "x".repeat(32),
      JWT_MAX_LIFETIME_SECONDS: "3600",
      TENANT_PROVISIONING: "closed",
    });
    expect(cfg.jwt.maxLifetimeSeconds).toBe(3600);
    expect(cfg.tenantProvisioning).toBe("closed");
  });

  it.each([
    ["JWT_MAX_LIFETIME_SECONDS", "0"],
    ["JWT_MAX_LIFETIME_SECONDS", "59"],
    ["JWT_MAX_LIFETIME_SECONDS", "2592001"],
    ["JWT_MAX_LIFETIME_SECONDS", "1d"],
    ["TENANT_PROVISIONING", "open"],
    ["TENANT_PROVISIONING", "AUTO"],
  ])("%s=%s is refused, by name", (name, value) => {
    expect(() => parseEnv({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});

describe("agent protocol settings", () => {
  it("AGENT_POLL_INTERVAL_SECONDS and AGENT_BODY_LIMIT_BYTES reach the app config", async () => {
    const cfg = await loadConfig({
      GATEHOUSE_DATA_DIR: tmp(),
      DEV_JWT_SECRET: "x".repeat(32),
      AGENT_POLL_INTERVAL_SECONDS: "15",
      AGENT_BODY_LIMIT_BYTES: "4194304",
    });
    expect(cfg.agent).toEqual({ pollIntervalSeconds: 15, bodyLimitBytes: 4194304 });
    expect(cfg.bodyLimitBytes).toBe(1048576);
    const defaults = await loadConfig({ GATEHOUSE_DATA_DIR: tmp(), DEV_JWT_SECRET: "x".repeat(32) });
    expect(defaults.agent).toEqual({ pollIntervalSeconds: 30, bodyLimitBytes: 16 * 1024 * 1024 });
  });

  it.each([
    ["AGENT_POLL_INTERVAL_SECONDS", "0"],
    ["AGENT_POLL_INTERVAL_SECONDS", "3601"],
    ["AGENT_POLL_INTERVAL_SECONDS", "1.5"],
    ["AGENT_POLL_INTERVAL_SECONDS", "often"],
    ["AGENT_BODY_LIMIT_BYTES", "0"],
    ["AGENT_BODY_LIMIT_BYTES", "-1"],
    ["AGENT_BODY_LIMIT_BYTES", "16MiB"],
  ])("%s=%s is refused, by name", (name, value) => {
    expect(() => parseEnv({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});

describe("database settings", () => {
  const base = () => ({ GATEHOUSE_DATA_DIR: tmp(), DEV_JWT_SECRET: "x".repeat(32) });

  it("default, and each variable reaches the config npm start opens the database with", async () => {
    expect(await loadConfig(base())).toMatchObject({
      databasePoolSize: 10,
      databasePoolWaitMs: 10_000,
      databasePreparedStatements: true,
      neonWsProxy: undefined,
    });
    const cfg = await loadConfig({
      ...base(),
      DATABASE_POOL_SIZE: "25",
      DATABASE_POOL_WAIT_MS: "0",
      NEON_WS_PROXY: "127.0.0.1:5480",
      DATABASE_PREPARED_STATEMENTS: "false",
    });
    expect(cfg).toMatchObject({ databasePoolSize: 25, databasePoolWaitMs: 0, databasePreparedStatements: false, neonWsProxy: "127.0.0.1:5480" });
    expect(databaseOptions(cfg)).toEqual({
      url: undefined,
      dataDir: cfg.dataDir,
      wsProxy: "127.0.0.1:5480",
      poolSize: 25,
      poolWaitMs: 0,
      preparedStatements: false,
    });
    expect(parseEnv({ NEON_WS_PROXY: "[::1]:5480" }).NEON_WS_PROXY).toBe("[::1]:5480");
    expect(parseEnv({ NEON_WS_PROXY: "wsproxy.internal:80" }).NEON_WS_PROXY).toBe("wsproxy.internal:80");
    expect(parseEnv({ NEON_WS_PROXY: " " }).NEON_WS_PROXY).toBeUndefined();
  });

  // Each of these used to fall back to the default without a word (or, for NEON_WS_PROXY, to
  // build a proxy URL the driver then failed to reach).
  it.each([
    ["DATABASE_POOL_SIZE", "0"],
    ["DATABASE_POOL_SIZE", "-3"],
    ["DATABASE_POOL_SIZE", "2.5"],
    ["DATABASE_POOL_SIZE", "ten"],
    ["DATABASE_POOL_SIZE", "1001"],
    ["DATABASE_POOL_WAIT_MS", "-1"],
    ["DATABASE_POOL_WAIT_MS", "1.5"],
    ["DATABASE_POOL_WAIT_MS", "soon"],
    ["DATABASE_POOL_WAIT_MS", "600001"],
    ["DATABASE_PREPARED_STATEMENTS", "off"],
    ["DATABASE_PREPARED_STATEMENTS", "1"],
    ["NEON_WS_PROXY", "127.0.0.1"],
    ["NEON_WS_PROXY", "ws://127.0.0.1:5480"],
    ["NEON_WS_PROXY", "127.0.0.1:5480/v2"],
    ["NEON_WS_PROXY", "127.0.0.1:port"],
    ["NEON_WS_PROXY", "127.0.0.1:70000"],
  ])("%s=%s is refused at start-up, by name", async (name, value) => {
    expect(() => parseEnv({ [name]: value })).toThrow(new RegExp(`${name}:`));
    await expect(loadConfig({ ...base(), [name]: value })).rejects.toThrow(ConfigError);
  });

  it("npm start refuses to start on one, naming it (exit 2, before touching any database)", () => {
    const node = fileURLToPath(new URL("../node.ts", import.meta.url));
    const env = { PATH: process.env.PATH ?? "", ...base(), NEON_WS_PROXY: "soon", DATABASE_POOL_SIZE: "0" };
    const run = spawnSync(process.execPath, [node], { env, encoding: "utf8", timeout: 30_000 });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("NEON_WS_PROXY:");
    expect(run.stderr).toContain("DATABASE_POOL_SIZE:");
  });
});

describe("webhook settings", () => {
  it("are strict by default, and each variable reaches the app config", async () => {
    expect(webhookConfig(parseEnv({}))).toEqual(DEFAULT_WEBHOOK_CONFIG);
    expect(DEFAULT_WEBHOOK_CONFIG).toMatchObject({ allowHttp: false, allowPrivate: false, retentionDays: 30, secretOverlapSeconds: 86_400 });
    const cfg = await loadConfig({
      GATEHOUSE_DATA_DIR: tmp(),
      DEV_JWT_SECRET: "x".repeat(32),
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOW_PRIVATE: "true",
      WEBHOOK_DISPATCH_INTERVAL_MS: "0",
      WEBHOOK_TIMEOUT_MS: "2500",
      WEBHOOK_RETENTION_DAYS: "90",
      WEBHOOK_SECRET_OVERLAP_SECONDS: "0",
    });
    expect(cfg.webhooks).toEqual({ allowHttp: true, allowPrivate: true, dispatchIntervalMs: 0, timeoutMs: 2500, retentionDays: 90, secretOverlapSeconds: 0 });
  });

  it.each([
    ["WEBHOOK_ALLOW_HTTP", "yes"],
    ["WEBHOOK_ALLOW_PRIVATE", "1"],
    ["WEBHOOK_DISPATCH_INTERVAL_MS", "-1"],
    ["WEBHOOK_DISPATCH_INTERVAL_MS", "soon"],
    ["WEBHOOK_TIMEOUT_MS", "50"],
    ["WEBHOOK_TIMEOUT_MS", "60001"],
    ["WEBHOOK_RETENTION_DAYS", "0"],
    ["WEBHOOK_RETENTION_DAYS", "1.5"],
    ["WEBHOOK_RETENTION_DAYS", "forever"],
    ["WEBHOOK_SECRET_OVERLAP_SECONDS", "-1"],
    ["WEBHOOK_SECRET_OVERLAP_SECONDS", "2592001"],
    ["WEBHOOK_SECRET_OVERLAP_SECONDS", "1d"],
  ])("%s=%s is refused, by name", (name, value) => {
    expect(() => parseEnv({ [name]: value })).toThrow(new RegExp(`${name}:`));
  });
});

describe("PUBLIC_URL", () => {
  const base = () => ({ GATEHOUSE_DATA_DIR: tmp(), DEV_JWT_SECRET: "x".repeat(32) });

  it("is optional: unset or blank means agent manifests use each request's origin", async () => {
    expect((await loadConfig(base())).publicUrl).toBeUndefined();
    expect((await loadConfig({ ...base(), PUBLIC_URL: " " })).publicUrl).toBeUndefined();
  });

  it.each([
    ["https://gatehouse.example.com", "https://gatehouse.example.com"],
    ["https://gatehouse.example.com/", "https://gatehouse.example.com"],
    ["http://10.0.0.7:8080", "http://10.0.0.7:8080"],
    ["https://example.com/gatehouse//", "https://example.com/gatehouse"],
  ])("%s reaches the app config as %s (a path prefix kept, trailing slashes dropped)", async (value, want) => {
    expect((await loadConfig({ ...base(), PUBLIC_URL: value })).publicUrl).toBe(want);
  });

  it.each(["gatehouse.example.com", "ftp://gatehouse.example.com", "https://", "https://x.example/?a=b", "https://x.example/#top", "not a url"])(
    "%s is refused, by name",
    (value) => {
      expect(() => parseEnv({ PUBLIC_URL: value })).toThrow(/PUBLIC_URL:/);
    },
  );
});

describe("dev key", () => {
  it("is generated once into <dataDir>/dev-jwt-key.json, readable by the owner only, then reused", async () => {
    const dir = join(tmp(), "nested", "data");
    const first = await loadOrCreateDevKey(dir);
    const file = join(dir, DEV_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ kty: "OKP", crv: "Ed25519", d: expect.any(String) });
    const second = await loadOrCreateDevKey(dir);
    expect(first.alg === "EdDSA" && second.alg === "EdDSA" && second.kid === first.kid).toBe(true);
  });

  it("concurrent first uses agree on one key", async () => {
    const dir = tmp();
    const keys = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateDevKey(dir)));
    expect(new Set(keys.map((k) => (k.alg === "EdDSA" ? k.kid : "")))).toHaveLength(1);
  });

  it("a token minted with the file's key verifies against the key loaded again", async () => {
    const dir = tmp();
    const cfg = await loadConfig({ GATEHOUSE_DATA_DIR: dir });
    const token = await mintDevToken(
      cfg.jwt.devKey!,
      { sub: "a", tenant: "acme", role: "admin" },
      { issuer: cfg.jwt.issuer, audience: cfg.jwt.audience, ttlSeconds: 60 },
    );
    const again = await loadConfig({ GATEHOUSE_DATA_DIR: dir });
    const key = again.jwt.devKey!;
    if (key.alg !== "EdDSA") throw new Error("expected EdDSA");
    const { payload, protectedHeader } = await jwtVerify(token, key.publicKey, { issuer: "gatehouse-dev", audience: "gatehouse" });
    expect(payload).toMatchObject({ sub: "a", tenant: "acme", role: "admin" });
    expect(protectedHeader).toMatchObject({ alg: "EdDSA", kid: key.kid });
  });

  it("DEV_JWT_SECRET switches to HS256; JWKS_URL means no dev key at all (and no file)", async () => {
    const dir = tmp();
    expect((await loadConfig({ GATEHOUSE_DATA_DIR: dir, DEV_JWT_SECRET: "x".repeat(32) })).jwt.devKey?.alg).toBe("HS256");
    const jwks = await loadConfig({ GATEHOUSE_DATA_DIR: dir, JWKS_URL: "https://idp.example/jwks.json" });
    expect(jwks.jwt.devKey).toBeUndefined();
    expect(() => statSync(join(dir, DEV_KEY_FILE))).toThrow();
  });
});
