import { stringify } from "yaml";

/**
 * Multi-document YAML, one object per document. Written as YAML 1.1 because kubectl and
 * Gatekeeper read YAML 1.1: a namespace named `y` or `on` must stay a string, not a boolean.
 */
export function toYaml(objects: readonly object[]): string {
  return objects.map((o) => `---\n${stringify(o, { version: "1.1", lineWidth: 0, blockQuote: "literal" })}`).join("");
}
