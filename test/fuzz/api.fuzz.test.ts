// OpenAPI-driven fuzzing of every operation in /openapi.json, on both databases: requests built by
// fast-check from the document's own schemas (path ids of real rows, this tenant's and another's,
// or random; query, headers and bodies mostly valid, sometimes broken), sent as admin, editor and
// viewer (an agent credential for /agent/v1, and sometimes the wrong credential or none). Every
// response must be below 500, carry a status the operation documents, and, when it has a body, a
// media type the operation documents for that status and a JSON body valid against its schema.
// Seeded: GATEHOUSE_FUZZ_SEED=<n> replays a run (the seed is printed with any failure);
// GATEHOUSE_FUZZ_RUNS sets the requests per operation (default 25).
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_API_PREFIX } from "../../src/protocol/agent.ts";
import { createTestApi, type TestApi } from "../harness/api.ts";
import { backends } from "../harness/backends.ts";
import { describeErrors, loadContract, pointerEscape, type OpenApiContract, type Operation } from "../harness/openapi.ts";
import { fromSchema, fuzzed } from "./arbitraries.ts";
import type { Role } from "../../src/app/env.ts";
import { buildWorld, type FuzzWorld } from "./fixtures.ts";

const SEED = Number(process.env.GATEHOUSE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.GATEHOUSE_FUZZ_RUNS ?? 25);

// The operations, read once from the document (it does not depend on the database).
const probe = await createTestApi();
const contract: OpenApiContract = await loadContract(probe);
await probe.close();

// Reads first, then writes, deletions last, agent protocol first of all (a deleted environment
// would take the agent's credential with it).
const rank = (o: Operation) => (o.path.startsWith(AGENT_API_PREFIX) ? 0 : o.method === "GET" ? 1 : o.method === "DELETE" ? 3 : 2);
const operations = [...contract.operations].sort((a, b) => rank(a) - rank(b));

type Who = Role | "agent" | "none";
interface FuzzRequest {
  who: Who;
  url: string;
  headers: Record<string, string>;
  body?: string;
}

type Parameter = { name: string; in: string; required?: boolean; schema?: any };

const ascii = (s: string) => /^[\x20-\x7e]*$/.test(s);
const junkSegment = fc.string({ minLength: 1, maxLength: 12 });

/** `collection` is the path segment before the parameter: its own rows are the likeliest ids. */
function pathValue(p: Parameter, collection: string, world: FuzzWorld): fc.Arbitrary<string> {
  const own = world.idsOf[collection] ?? world.ids;
  const base =
    p.schema?.format === "uuid" || /id$/i.test(p.name)
      ? fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...own) },
          { weight: 1, arbitrary: fc.constantFrom(...world.ids) },
          { weight: 1, arbitrary: fc.uuid() },
        )
      : p.schema?.type === "integer" || /rev/i.test(p.name)
        ? fc.oneof(fc.constantFrom(...world.revisions).map(String), fromSchema(contract, p.schema).map(String))
        : fromSchema(contract, p.schema).map(String);
  return fc.oneof({ weight: 5, arbitrary: base }, { weight: 1, arbitrary: junkSegment });
}

/** Query or header values: an array schema is the parameter repeated. */
function paramValues(p: Parameter): fc.Arbitrary<string[] | undefined> {
  const values = fromSchema(contract, p.schema).map((v) => (Array.isArray(v) ? v : [v]).map((x) => (typeof x === "string" ? x : JSON.stringify(x))));
  // Optional parameters are mostly left out: each one given is one more chance of a 400 that stops
  // the request before the handler.
  return p.required ? values : fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: values });
}

function requestFor(op: Operation, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  const params = (op.op.parameters ?? []) as Parameter[];
  const agentRoute = op.path.startsWith(AGENT_API_PREFIX);
  const who: fc.Arbitrary<Who> = agentRoute
    ? fc.oneof({ weight: 6, arbitrary: fc.constant("agent" as const) }, { weight: 1, arbitrary: fc.constantFrom("admin" as const, "none" as const) })
    : fc.oneof(
        { weight: 4, arbitrary: fc.constant("admin" as const) },
        { weight: 2, arbitrary: fc.constantFrom("editor" as const, "viewer" as const) },
        { weight: 1, arbitrary: fc.constantFrom("agent" as const, "none" as const) },
      );
  const segments = op.path.split("/");
  const collectionOf = (name: string) => segments[segments.indexOf(`{${name}}`) - 1] ?? "";
  const path = fc.tuple(...params.filter((p) => p.in === "path").map((p) => pathValue(p, collectionOf(p.name), world).map((v) => [p.name, v] as const)));
  const query = fc.tuple(
    fc.tuple(...params.filter((p) => p.in === "query").map((p) => paramValues(p).map((v) => [p.name, v] as const))),
    fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("unknown", "cursor", "limit") }),
  );
  const headers = fc.tuple(...params.filter((p) => p.in === "header").map((p) => paramValues(p).map((v) => [p.name, v] as const)));
  const content = op.op.requestBody?.content?.["application/json"];
  const body: fc.Arbitrary<unknown | undefined> = content
    ? op.op.requestBody.required
      ? fuzzed(contract, content.schema)
      : fc.option(fuzzed(contract, content.schema), { nil: undefined })
    : fc.constant(undefined);
  return fc.record({ who, path, query, headers, body }).map((r) => {
    let url = op.path;
    for (const [name, v] of r.path) url = url.replace(`{${name}}`, encodeURIComponent(v));
    const search = new URLSearchParams();
    for (const [name, vs] of r.query[0]) for (const v of vs ?? []) search.append(name, v);
    if (r.query[1]) search.append(r.query[1], "x");
    const h: Record<string, string> = {};
    for (const [name, vs] of r.headers) if (vs?.length && ascii(vs[0]!)) h[name] = vs[0]!;
    if (r.body !== undefined) h["content-type"] = "application/json";
    return { who: r.who, url: search.size ? `${url}?${search}` : url, headers: h, body: r.body === undefined ? undefined : JSON.stringify(r.body) };
  });
}

/** Everything wrong with this response for this operation ([] when it is as documented). */
function violations(op: Operation, status: number, contentType: string | null, text: string): string[] {
  if (status >= 500) return [`status ${status}`];
  const documented = op.op.responses?.[String(status)];
  if (!documented) return [`status ${status} is not documented (documented: ${Object.keys(op.op.responses ?? {}).join(", ")})`];
  if (!text) return documented.content && status !== 304 ? [`status ${status} documents a body, and none came`] : [];
  const mediaType = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (!documented.content?.[mediaType]) return [`${mediaType || "no content type"} is not documented for ${status}`];
  if (!/\bjson$/.test(mediaType)) return [];
  const v = contract.validator(`${op.pointer}/responses/${status}/content/${pointerEscape(mediaType)}/schema`);
  return v(JSON.parse(text)) ? [] : [`the body does not match the documented schema: ${describeErrors(v.errors)}`];
}

describe.each(backends())("OpenAPI fuzz ($name)", (backend) => {
  let api: TestApi;
  let world: FuzzWorld;
  beforeAll(async () => {
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true } });
    world = await buildWorld(api);
  });
  afterAll(() => api?.close());

  const token = (who: Who) => (who === "none" ? undefined : who === "agent" ? world.agent : world.tokens[who]);

  it("covers every operation of the document", () => {
    expect(operations.length).toBeGreaterThan(40);
  });

  // Found by the fuzzer (GET /agent/v1/desired-state answered an undocumented 400), kept as a sweep
  // that does not depend on the seed.
  it("an unknown query parameter on any operation gets a documented status", async () => {
    const wrong: string[] = [];
    for (const op of operations) {
      const url = `${op.path.replaceAll(/\{[^}]+\}/g, (m) => (m === "{control}" ? "capabilities" : m === "{revision}" ? "1" : world.idsOf.environments![0]!))}?unknown=x`;
      const t = token(op.path.startsWith(AGENT_API_PREFIX) ? "agent" : "admin");
      const res = await api.app.request(url, { method: op.method, headers: { authorization: `Bearer ${t}` } });
      const text = await res.text();
      for (const w of violations(op, res.status, res.headers.get("content-type"), text)) wrong.push(`${op.method} ${url} → ${res.status}: ${w}`);
    }
    expect(wrong).toEqual([]);
  });

  it.each(operations.map((o, i) => [`${o.method} ${o.path}`, o, i] as const))("%s", async (name, op, i) => {
    const statuses = new Map<number, number>();
    const property = fc.asyncProperty(requestFor(op, world), async (r) => {
      const t = token(r.who);
      const res = await api.app.request(r.url, { method: op.method, headers: { ...r.headers, ...(t ? { authorization: `Bearer ${t}` } : {}) }, body: r.body });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const wrong = violations(op, res.status, res.headers.get("content-type"), text);
      if (wrong.length)
        throw new Error(`${op.method} ${r.url} as ${r.who} (body ${r.body ?? "none"}) → ${res.status} ${text.slice(0, 500)}: ${wrong.join("; ")}`);
    });
    try {
      await fc.assert(property, { seed: SEED + i, numRuns: RUNS });
    } catch (err) {
      throw new Error(`fuzz failed; replay with GATEHOUSE_FUZZ_SEED=${SEED} (this operation's seed: ${SEED + i})\n${(err as Error).message}`);
    }
    if (process.env.GATEHOUSE_FUZZ_STATS) console.log(name, Object.fromEntries(statuses));
  });
});
