// The app's plumbing: docs, health, and that every failure mode is problem+json.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import type { OpenApiDocument } from "../../test/harness/openapi.ts";
import { routes } from "../routes/index.ts";
import { requireRole } from "./auth.ts";
import type { V1Env } from "./env.ts";
import { problemResponses } from "./problem.ts";

const Echo = z.strictObject({ name: z.string().min(1), replicas: z.int().min(0).max(10).optional(), labels: z.record(z.string(), z.string()).optional() });

// Test-only routes: a JSON body to validate, and a handler that throws.
const plumbing = {
  register(app: OpenAPIHono<V1Env>) {
    app.openapi(
      createRoute({
        method: "post",
        path: "/v1/test/echo",
        middleware: [requireRole("editor")] as const,
        request: { body: { required: true, content: { "application/json": { schema: Echo } } } },
        responses: { 200: { description: "echo", content: { "application/json": { schema: Echo } } }, ...problemResponses(400, 401, 403, 413, 415) },
      }),
      (c) => c.json(c.req.valid("json"), 200),
    );
    app.get("/v1/test/context", (c) => {
      // @ts-expect-error V1Env has no agent: a /v1 handler cannot read one (tsc fails if it could)
      const agent: unknown = c.get("agent");
      return c.json({ subject: c.get("principal").subject, agent: agent ?? null });
    });
    app.get("/v1/test/boom", () => {
      throw new Error("connection to 10.0.0.7 failed: password authentication failed for user secret_admin");
    });
  },
};

const logged: string[] = [];
const logger = pino({ level: "error" }, new Writable({ write: (chunk, _enc, cb) => (logged.push(String(chunk)), cb()) }));

let api: TestApi;
let editor: string;
beforeAll(async () => {
  api = await createTestApi(undefined, { routes: [...routes, plumbing], bodyLimitBytes: 1024, logger });
  editor = await api.token("acme", "editor");
});
afterAll(() => api?.close());

describe("documentation", () => {
  it("serves an OpenAPI 3.1 document listing /v1/tenant", async () => {
    const res = await api.request("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = await json<OpenApiDocument>(res);
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.info).toMatchObject({ title: "Gatehouse API", version: expect.any(String) });
    expect(doc.paths["/v1/tenant"].get.responses).toHaveProperty("200");
    expect(doc.paths["/v1/tenant"].get.responses["401"].content).toHaveProperty("application/problem+json");
    expect(doc.components.schemas).toHaveProperty("Problem");
    expect(doc.components.schemas).toHaveProperty("Tenant");
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.security).toEqual([{ bearer: [] }]);
  });

  it("serves the reference UI at /docs", async () => {
    const res = await api.request("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("/openapi.json");
  });

  it("answers /healthz after checking the database", async () => {
    const res = await api.request("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: "ok" });
  });

  it("tags every response with a request id", async () => {
    const res = await api.request("GET", "/healthz");
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("the /v1 sub-app", () => {
  it("gives its handlers the caller's principal and no agent", async () => {
    const res = await api.request("GET", "/v1/test/context", { token: editor });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ subject: "editor@acme", agent: null });
  });
});

describe("errors are problem+json", () => {
  it("404 for an unknown route", async () => {
    const body = await expectProblem(await api.request("GET", "/nope"), 404);
    expect(body).toMatchObject({ type: "urn:gatehouse:problem:not-found", instance: "/nope" });
  });

  it("401 before 404 under /v1, so routes cannot be probed anonymously", async () => {
    await expectProblem(await api.request("GET", "/v1/nope"), 401);
    await expectProblem(await api.request("GET", "/v1/nope", { token: editor }), 404);
  });

  it("413 for a body over the limit", async () => {
    const body = await expectProblem(await api.request("POST", "/v1/test/echo", { token: editor, body: { name: "x".repeat(2000) } }), 413);
    expect(body.detail).toContain("1024 bytes");
  });

  it("413 even when the client sends no content-length (chunked)", async () => {
    const stream = new ReadableStream({
      start(ctl) {
        for (let i = 0; i < 4; i++) ctl.enqueue(new TextEncoder().encode(`{"name":"${"y".repeat(500)}`));
        ctl.close();
      },
    });
    const res = await api.app.request("/v1/test/echo", {
      method: "POST",
      headers: { authorization: `Bearer ${editor}`, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    await expectProblem(res, 413);
  });

  it("400 for malformed JSON", async () => {
    const body = await expectProblem(await api.request("POST", "/v1/test/echo", { token: editor, body: '{"name": "x",' }), 400);
    expect(body.detail).toMatch(/malformed json/i);
  });

  it("400 with a path per invalid field, unknown fields included", async () => {
    const res = await api.request("POST", "/v1/test/echo", { token: editor, body: { name: "", replicas: 11, labels: { a: 1 }, extra: true } });
    const body = await expectProblem(res, 400);
    expect(body.detail).toBe("The request body is invalid.");
    const paths = body.errors?.map((e) => e.path) ?? [];
    expect(paths).toEqual(expect.arrayContaining(["name", "replicas", "labels.a"]));
    expect(body.errors?.find((e) => e.message.includes("extra"))).toBeDefined();
  });

  it("400 for a missing body, 415 for a non-JSON one", async () => {
    const missing = await expectProblem(await api.request("POST", "/v1/test/echo", { token: editor }), 400);
    expect(missing.errors?.length).toBeGreaterThan(0);
    await expectProblem(
      await api.request("POST", "/v1/test/echo", { token: editor, body: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
    );
  });

  it("a valid body passes through", async () => {
    const res = await api.request("POST", "/v1/test/echo", { token: editor, body: { name: "web", replicas: 2 } });
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ name: "web", replicas: 2 });
  });

  it("500 for a thrown error, without its message or stack; the log has both", async () => {
    logged.length = 0;
    const res = await api.request("GET", "/v1/test/boom", { token: editor });
    const body = await expectProblem(res, 500);
    expect(JSON.stringify(body)).not.toMatch(/10\.0\.0\.7|secret_admin|Error:/);
    expect(Object.keys(body).sort()).toEqual(["detail", "instance", "status", "title", "type"]);
    expect(logged.join("")).toContain("secret_admin");
    expect(logged.join("")).toContain("app.test.ts");
  });
});
