import { stringify } from "yaml";
import type { K8sObject } from "./render.ts";

/** Multi-document YAML, one object per document, long lines (Rego) kept as written. */
export function toYaml(objects: readonly K8sObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { lineWidth: 0, blockQuote: "literal" })}`).join("");
}
