// The agent's API client (on node:http, not fetch) against a real HTTP server on loopback: what it
// sends, a desired state read and checked against the protocol schema, errors as ApiError with
// the problem's detail, and the backoff when the API says it is overloaded (503 with Retry-After,
// as when its database is out of connections): the error carries the wait, and the next call
// waits it out before it is sent.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError, createApiClient, retryAfterSeconds } from "./api-client.ts";

describe("agent API client", () => {
  let server: Server;
  let base: string;
  const answers: number[] = [];
  const seen: string[] = [];
  const requests: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];
  // Bodies by status for the tests below; 304 and 503 have their own.
  const bodies: Record<number, { type: string; body: string; etag?: string }> = {};
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? "");
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
        const status = answers.shift() ?? 304;
        if (status === 503) res.setHeader("retry-after", "1");
        const canned = bodies[status];
        if (canned) {
          res.setHeader("content-type", canned.type);
          if (canned.etag) res.setHeader("etag", canned.etag);
        }
        res.statusCode = status;
        res.end(status === 503 ? JSON.stringify({ detail: "The database is out of connections for the moment" }) : canned?.body);
      });
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

  it("reads a desired state (200, with its ETag), sends the token, the If-None-Match and a JSON body", async () => {
    const desired = {
      environmentId: "0b8f7a52-54c1-4d5e-9a39-1f0a6c7b2f11",
      environmentName: "prod",
      revision: 3,
      objects: [],
      agent: { pollIntervalSeconds: 30, fieldManager: "gatehouse" },
    };
    bodies[200] = { type: "application/json", body: JSON.stringify(desired), etag: '"3-abc"' };
    const client = createApiClient(`${base}/`, () => "gha_secret", "gatehouse-agent/test");
    requests.length = 0;
    answers.push(200, 204);
    await expect(client.fetchDesired('"2-old"')).resolves.toEqual({ changed: true, desired, etag: '"3-abc"' });
    await client.postAdmissionEvents([]);
    const [get, post] = requests;
    expect(get?.method).toBe("GET");
    expect(get?.url).toBe("/agent/v1/desired-state");
    expect(get?.headers.authorization).toBe("Bearer gha_secret");
    expect(get?.headers["if-none-match"]).toBe('"2-old"');
    expect(get?.headers["user-agent"]).toBe("gatehouse-agent/test");
    expect(post?.method).toBe("POST");
    expect(post?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(post?.body ?? "")).toEqual({ events: [] });
  });

  it("sends audit reports without Prefer: respond-async, so the loop waits for the 204 (applied)", async () => {
    const client = createApiClient(base, () => "gha_secret", "test");
    requests.length = 0;
    answers.push(204);
    const report = { collectedAt: "2026-01-01T00:00:00.000Z", constraints: [] };
    await client.postAuditReport(report);
    expect(requests.map((r) => [r.method, r.url, r.headers.prefer, JSON.parse(r.body)])).toEqual([["POST", "/agent/v1/audit-report", undefined, report]]);
  });

  it("a 200 that is not a desired state, a problem, and an unreachable API are ApiErrors", async () => {
    const client = createApiClient(base, () => "gha_token", "test");
    bodies[200] = { type: "application/json", body: JSON.stringify({ revision: "x" }) };
    answers.push(200);
    await expect(client.fetchDesired(null)).rejects.toThrow(/not a desired state/);
    bodies[401] = { type: "application/problem+json", body: JSON.stringify({ title: "Unauthorized", detail: "The agent credential was revoked" }) };
    answers.push(401);
    const err = await client.postStatus({} as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(401);
    expect((err as ApiError).message).toContain("The agent credential was revoked");
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const unreachable = await createApiClient(`http://127.0.0.1:${port}`, () => "gha_token", "test")
      .fetchDesired(null)
      .catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(ApiError);
    expect((unreachable as ApiError).status).toBeUndefined();
    expect((unreachable as ApiError).message).toMatch(/unreachable/);
  });

  it("a kept-alive connection the server drops as the next request goes out: sent again once, on a new one", async () => {
    // This server answers only the first request of each connection and drops the connection on
    // the next one, as a server closing an idle keep-alive connection at that moment does.
    const perSocket = new WeakMap<object, number>();
    const dropping = createServer((req, res) => {
      const n = (perSocket.get(req.socket) ?? 0) + 1;
      perSocket.set(req.socket, n);
      if (n > 1) return req.socket.destroy();
      res.statusCode = 304;
      res.end();
    });
    await new Promise<void>((r) => dropping.listen(0, "127.0.0.1", r));
    try {
      const client = createApiClient(`http://127.0.0.1:${(dropping.address() as AddressInfo).port}`, () => "gha_token", "test");
      await expect(client.fetchDesired('"1-x"')).resolves.toEqual({ changed: false });
      await expect(client.fetchDesired('"1-x"')).resolves.toEqual({ changed: false });
    } finally {
      dropping.closeAllConnections();
      await new Promise((r) => dropping.close(r));
    }
  });
});
