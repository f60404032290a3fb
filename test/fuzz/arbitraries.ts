// fast-check arbitraries derived from the API's OpenAPI document (which the zod schemas generate):
// values that satisfy a schema most of the time, so requests get past validation and reach the
// handlers and the database, and values that break it some of the time, so validation is fuzzed too.
import fc from "fast-check";
import type { OpenApiContract } from "../harness/openapi.ts";

type Schema = Record<string, any>;

const MAX_DEPTH = 6;
const MAX_ITEMS = 4;

/** A value for `schema` (a node of the contract's document, $refs followed). */
export function fromSchema(oa: OpenApiContract, schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > MAX_DEPTH) return fc.constant(null);
  if (typeof schema.$ref === "string") return fromSchema(oa, oa.at(schema.$ref.replace(/^#/, "")) as Schema, depth + 1);
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => fromSchema(oa, s, depth + 1)));
  if (Array.isArray(schema.allOf) && schema.allOf.length) return fromSchema(oa, { ...schema.allOf[0], ...schema, allOf: undefined }, depth + 1);
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((t: string) => fromSchema(oa, { ...schema, type: t }, depth)));
  switch (schema.type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return integer(schema);
    case "number":
      return fc.oneof(integer(schema), fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9 }));
    case "string":
      return string(schema);
    case "array": {
      const items = fromSchema(oa, schema.items, depth + 1);
      const minLength = schema.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(schema.maxItems ?? MAX_ITEMS, MAX_ITEMS));
      return schema.uniqueItems
        ? fc.uniqueArray(items, { minLength: 0, maxLength, selector: (v) => JSON.stringify(v) }).filter((a) => a.length >= minLength)
        : fc.array(items, { minLength, maxLength });
    }
    case "object":
    case undefined:
      if (schema.type === undefined && !schema.properties && !schema.additionalProperties) return json();
      return object(oa, schema, depth);
    default:
      return json();
  }
}

function integer(schema: Schema): fc.Arbitrary<number> {
  const min = schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : (schema.minimum ?? -1_000_000);
  const max = schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : (schema.maximum ?? 1_000_000);
  // The bounds themselves are where off-by-one errors live.
  const lo = Math.max(min, Number.MIN_SAFE_INTEGER);
  const hi = Math.min(max, Number.MAX_SAFE_INTEGER);
  // Small values are the ones that name real things (revisions, limits, days).
  const small = fc.integer({ min: Math.max(lo, Math.min(0, hi)), max: Math.min(hi, Math.max(lo, 0) + 5) });
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(lo, hi) },
    { weight: 3, arbitrary: small },
    { weight: 1, arbitrary: fc.integer({ min: Math.max(lo, -(2 ** 31)), max: Math.min(hi, 2 ** 31 - 1) }) },
  );
}

function string(schema: Schema): fc.Arbitrary<string> {
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 40, 60);
  const fits = (s: string) => s.length >= minLength && s.length <= (schema.maxLength ?? Infinity);
  switch (schema.format) {
    case "uuid":
      return fc.uuid();
    case "date-time":
      return fc.date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString());
    case "date":
      return fc
        .date({ min: new Date("1970-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case "uri":
    case "url":
      return fc.webUrl({ validSchemes: ["https", "http"] });
    case "email":
      return fc.emailAddress();
  }
  if (typeof schema.pattern === "string") {
    const re = new RegExp(schema.pattern, "u");
    return fc.stringMatching(re, { size: "small" }).filter(fits);
  }
  return fc
    .string({ minLength, maxLength, unit: fc.oneof(fc.constantFrom(..."abcz09-_./:=* "), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })) })
    .filter(fits);
}

function object(oa: OpenApiContract, schema: Schema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set<string>(schema.required ?? []);
  const known = fc.record(Object.fromEntries(Object.entries(props).map(([k, s]) => [k, fromSchema(oa, s, depth + 1)])), {
    requiredKeys: Object.keys(props).filter((k) => required.has(k)),
  });
  const extra = schema.additionalProperties;
  if (!extra || typeof extra !== "object") return known;
  // A map (z.record): keys from propertyNames when given.
  const keys = schema.propertyNames ? (fromSchema(oa, schema.propertyNames, depth + 1) as fc.Arbitrary<string>) : fc.string({ minLength: 1, maxLength: 12 });
  return fc.tuple(known, fc.dictionary(keys, fromSchema(oa, extra, depth + 1), { maxKeys: 3 })).map(([a, b]) => ({ ...b, ...a }));
}

const json = () => fc.jsonValue({ maxDepth: 3 });

/** Mostly a schema-valid value; sometimes one with a field broken, or any JSON at all. */
export function fuzzed(oa: OpenApiContract, schema: Schema | undefined): fc.Arbitrary<unknown> {
  const valid = fromSchema(oa, schema);
  const broken = fc.tuple(valid, fc.string({ maxLength: 8 }), json()).map(([v, key, junk]) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return junk;
    const keys = Object.keys(v);
    const k = keys.length ? keys[key.length % keys.length]! : key;
    return { ...v, [k]: junk };
  });
  return fc.oneof({ weight: 6, arbitrary: valid }, { weight: 2, arbitrary: broken }, { weight: 1, arbitrary: json() });
}
