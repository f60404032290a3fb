// The API's own OpenAPI document as a contract tests can check against: fetched from /openapi.json
// and compiled with Ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect; every `pattern` as an
// ECMA-262 regex with the `u` flag), so a test validates a value against the schema at any JSON
// pointer of the document, exactly as a generated client would read it.
// Ajv and ajv-formats come with the install (through @scalar/api-reference's OpenAPI parser).
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { TestApi } from "./api.ts";

export type OpenApiDocument = Record<string, any>;

export interface Operation {
  method: string;
  /** The OpenAPI path template, e.g. /v1/environments/{id}. */
  path: string;
  /** JSON pointer of the operation object in the document. */
  pointer: string;
  op: Record<string, any>;
}

export interface OpenApiContract {
  doc: OpenApiDocument;
  operations: Operation[];
  /** A validator for the schema at this JSON pointer of the document (compiled once). */
  validator(pointer: string): ValidateFunction;
  /** The value at a JSON pointer, with every $ref on the way followed. */
  at(pointer: string): unknown;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const DOC_ID = "gatehouse-openapi";
const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

export const pointerEscape = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");

export async function loadContract(api: TestApi): Promise<OpenApiContract> {
  const res = await api.request("GET", "/openapi.json");
  if (res.status !== 200) throw new Error(`GET /openapi.json: ${res.status}`);
  return contract((await res.json()) as OpenApiDocument);
}

export function contract(doc: OpenApiDocument): OpenApiContract {
  // strict: false for OpenAPI's own keywords (example, discriminator, …); unicodeRegExp is Ajv's
  // default: patterns are compiled with the `u` flag.
  const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: true }));
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const cache = new Map<string, ValidateFunction>();
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {}) as [string, Record<string, unknown>][]) {
    for (const method of METHODS) {
      const op = item[method] as Operation["op"] | undefined;
      if (op) operations.push({ method: method.toUpperCase(), path, pointer: `/paths/${pointerEscape(path)}/${method}`, op });
    }
  }
  const at = (pointer: string): unknown => {
    let node: unknown = doc;
    for (const raw of pointer.split("/").slice(1)) {
      const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
      node = (node as Record<string, unknown>)?.[key];
      while (node && typeof node === "object" && "$ref" in node && typeof (node as { $ref: unknown }).$ref === "string") {
        node = at((node as { $ref: string }).$ref.replace(/^#/, ""));
      }
    }
    return node;
  };
  return {
    doc,
    operations,
    at,
    validator(pointer) {
      let v = cache.get(pointer);
      if (!v) {
        v = ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
        cache.set(pointer, v);
      }
      return v;
    },
  };
}

export const describeErrors = (errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((e) => `${e.instancePath || "(root)"} ${e.message} ${JSON.stringify(e.params)}`).join("; ");
