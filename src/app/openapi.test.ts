// The OpenAPI document is what clients are generated from, so it must say what the API does.
// An outside probe found `pattern: "^[^\p{Cc}]*$/u"` (a regex flag leaked into the pattern by the
// generator), which matches nothing: a generated client refused every API key name and webhook
// description. Every `pattern` must compile as ECMA-262 with `u` and every documented example must
// validate against its own schema (test/harness/openapi.ts compiles the document with Ajv).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../test/harness/api.ts";
import { describeErrors, loadContract, pointerEscape, type OpenApiContract } from "../../test/harness/openapi.ts";

let api: TestApi;
let oa: OpenApiContract;
beforeAll(async () => {
  api = await createTestApi();
  oa = await loadContract(api);
});
afterAll(() => api?.close());

// Values, not schemas: a `pattern` or `example` key inside them is data (an exemption's pattern).
const VALUE_KEYS = new Set(["example", "examples", "default", "enum", "const"]);

/** Every node of the document outside value positions, with its JSON pointer. */
function* schemaNodes(node: unknown, pointer = ""): Generator<[Record<string, unknown>, string]> {
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) yield* schemaNodes(v, `${pointer}/${i}`);
  } else if (node && typeof node === "object") {
    yield [node as Record<string, unknown>, pointer];
    for (const [k, v] of Object.entries(node)) if (!VALUE_KEYS.has(k)) yield* schemaNodes(v, `${pointer}/${pointerEscape(k)}`);
  }
}

const patterns = () =>
  [...schemaNodes(oa.doc)].filter(([n]) => typeof n.pattern === "string" && n.type === "string").map(([n, p]) => [p, n.pattern as string] as const);

describe("every pattern in /openapi.json", () => {
  it("there are patterns to check", () => {
    expect(patterns().length).toBeGreaterThan(5);
  });

  it("compiles as an ECMA-262 regex with the u flag, and carries no leaked /flags", () => {
    for (const [pointer, pattern] of patterns()) {
      expect(() => new RegExp(pattern, "u"), pointer).not.toThrow();
      expect(pattern, pointer).not.toMatch(/\/[dgimsuvy]+$/);
    }
  });

  it.each([
    ["CreateApiKey", "name", "deploy bot ✓"],
    ["CreateWebhookEndpoint", "description", "Pager for prod-eu"],
    ["UpdateWebhookEndpoint", "description", "Pager for prod-eu"],
  ])("%s.%s accepts plain text and refuses control characters, as the API does", (schema, field, plain) => {
    const v = oa.validator(`/components/schemas/${schema}/properties/${field}`);
    expect(v(plain), describeErrors(v.errors)).toBe(true);
    expect(v("tab\there")).toBe(false);
    expect(v("bell\u0007")).toBe(false);
    expect(v("c1\u0085")).toBe(false);
  });
});

describe("every documented example", () => {
  /** [pointer of the example, pointer of the schema it illustrates, the example]. */
  const examples = () => {
    const out: [string, string, unknown][] = [];
    for (const [node, pointer] of schemaNodes(oa.doc)) {
      // A media type or parameter object documents its example beside its schema; a schema, on itself.
      const schema = "schema" in node ? `${pointer}/schema` : pointer;
      if ("example" in node) out.push([`${pointer}/example`, schema, node.example]);
      if (Array.isArray(node.examples))
        node.examples.forEach((e, i) => {
          out.push([`${pointer}/examples/${i}`, schema, e]);
        });
      else if (node.examples && typeof node.examples === "object") {
        for (const [k, e] of Object.entries(node.examples)) out.push([`${pointer}/examples/${k}`, schema, (e as { value?: unknown }).value]);
      }
    }
    return out;
  };

  it("there are examples to check", () => {
    expect(examples().length).toBeGreaterThan(10);
  });

  it("validates against its own schema", () => {
    const failures = examples().flatMap(([where, schema, example]) => {
      const v = oa.validator(schema);
      return v(example) ? [] : [`${where}: ${JSON.stringify(example)}: ${describeErrors(v.errors)}`];
    });
    expect(failures).toEqual([]);
  });
});
