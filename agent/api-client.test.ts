// The agent's API client backs off when the API says it is overloaded (503 with Retry-After, as
// when its database is out of connections): the error carries the wait, and the next call waits
// it out before it is sent. Against a real HTTP server on loopback.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, createApiClient, retryAfterSeconds } from "./api-client.ts";

describe("agent API client backoff", () => {
  let server: Server;
  let base: string;
  const answers: number[] = [];
  const seen: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? "");
      const status = answers.shift() ?? 304;
      if (status === 503) res.setHeader("retry-after", "1");
      res.statusCode = status;
      res.end(status === 503 ? JSON.stringify({ detail: "The database is out of connections for the moment" }) : undefined);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it("a 503 with Retry-After → ApiError carrying it; the next call is held back until then", async () => {
    const client = createApiClient(base, () => "gha_token", "test");
    answers.push(503);
    const err = await client.fetchDesired('"1-x"').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(503);
    expect((err as ApiError).retryAfterSeconds).toBe(1);
    await expect(client.fetchDesired('"1-x"')).resolves.toEqual({ changed: false });
    expect(seen.length).toBe(2);
  });

  it("reads Retry-After as seconds or as an HTTP date, capped, and nothing from garbage", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterSeconds("7", now)).toBe(7);
    expect(retryAfterSeconds(new Date(now + 30_000).toUTCString(), now)).toBe(30);
    expect(retryAfterSeconds("99999", now)).toBe(300);
    expect(retryAfterSeconds("soon", now)).toBeUndefined();
    expect(retryAfterSeconds(null, now)).toBeUndefined();
  });
});
