// The Node server as npm start runs it (serveApp: @hono/node-server on node:http), on a real
// socket. An outside probe found that an Authorization header over ~16 KB got a bare 431 without a
// body, or a connection reset (node:http's default clientError handler destroys the socket while
// the header is still arriving). Every size up to the limit is the app's 401; beyond it, a 431
// problem+json that the client reads in full, the connection closed without a reset.
import type { Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../test/harness/api.ts";
import { MAX_HEADER_BYTES, serveApp } from "./node-server.ts";

let api: TestApi;
let server: Server;
let port: number;
beforeAll(async () => {
  api = await createTestApi();
  server = await new Promise<Server>((resolve) => {
    const s = serveApp({ fetch: api.app.fetch, port: 0, hostname: "127.0.0.1", onListening: () => resolve(s) });
  });
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await api?.close();
});

/** Writes `request` on a fresh connection and reads until the server closes it. */
function rawExchange(request: string): Promise<{ response: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let response = "";
    let error: string | undefined;
    socket.on("data", (d) => (response += d));
    // The write may fail once the server has answered and closed its side: that is not a reset.
    socket.on("error", (e: NodeJS.ErrnoException) => (error ??= e.code));
    socket.on("close", () => resolve({ response, error }));
    socket.write(request, () => socket.end());
  });
}

const bearer = (bytes: number) => `Bearer ${"a".repeat(bytes)}`;

describe("an oversized Authorization header", () => {
  it.each([1024, 8 * 1024, MAX_HEADER_BYTES - 512])("%i bytes reach the app: a 401 problem+json", async (bytes) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/tenant`, { headers: { authorization: bearer(bytes) } });
    await expectProblem(res, 401);
  });

  it.each([MAX_HEADER_BYTES, 64 * 1024, 1024 * 1024])("%i bytes: a 431 problem+json naming the limit (fetch)", async (bytes) => {
    const res = await fetch(`http://127.0.0.1:${port}/v1/tenant`, { headers: { authorization: bearer(bytes) } });
    const problem = await expectProblem(res, 431);
    expect(problem.detail).toContain(String(MAX_HEADER_BYTES));
    expect(problem.type).toBe("urn:gatehouse:problem:request-header-fields-too-large");
  });

  it.each([MAX_HEADER_BYTES, 256 * 1024, 4 * 1024 * 1024])("%i bytes on a raw socket: the whole answer arrives, and no reset", async (bytes) => {
    const { response, error } = await rawExchange(`GET /v1/tenant HTTP/1.1\r\nhost: x\r\nauthorization: ${bearer(bytes)}\r\n\r\n`);
    expect(error).toBeUndefined();
    const [head, body] = response.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(head).toContain("content-type: application/problem+json");
    expect(head).toContain("connection: close");
    expect(JSON.parse(body!)).toMatchObject({ status: 431, title: "Request header fields too large" });
  });

  it("the server keeps serving afterwards", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(res.status).toBe(200);
  });
});

describe("a request node:http cannot parse", () => {
  it("is a 400 problem+json, not a bare 400", async () => {
    const { response } = await rawExchange("NOT HTTP AT ALL\r\n\r\n");
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(response.split("\r\n\r\n")[1]!)).toMatchObject({ status: 400, type: "urn:gatehouse:problem:bad-request" });
  });
});
