// What a control is: its options (zod, with defaults), how options become Gatekeeper
// parameters, and its Rego. Everything else (names, labels, hashing, exemptions) is shared.
import { z } from "zod";
import { REGO_FILES } from "./rego-files.ts";

/** One finding in prose, for the summary a user reads before enforcing. */
export type Describe<O> = (options: O) => string;

/**
 * A control has three names, each fixed by something outside Gatehouse's code, and this object
 * is their one mapping (catalogue.test.ts checks each is unique):
 * - `id`, camelCase: the settings document's key and the API's `/settings/controls/{id}`;
 * - `slug`, kebab-case: the folder and `<slug>.rego`, the constraint's name, its
 *   `gatehouse.dev/control` label (so violation records' `control`), summaries and the
 *   exemption hint in every message;
 * - `kind`: the constraint kind; lower-cased, the template's name and the Rego package.
 * Renaming any of them changes the API, stored settings or violations, or the objects in
 * clusters, so they stay as they are.
 */
export interface Control<S extends z.ZodType = z.ZodType> {
  /** Key in the settings document and the API path, camelCase: `privilegedContainers`. */
  readonly id: string;
  /** Folder, Rego file, constraint name and label value, kebab-case: `privileged-containers`. */
  readonly slug: string;
  /** Constraint kind; the template and the Rego package are named after it in lower case. */
  readonly kind: string;
  readonly title: string;
  /** What the control checks, in one or two sentences (README, template annotation). */
  readonly description: string;
  /** Options with safe defaults; `{}` must parse. */
  readonly options: S;
  /** Shape of the Rego parameters (becomes the constraint CRD's schema). */
  readonly parameters: z.ZodObject;
  /** Options → Rego parameters. Pure; output validated against `parameters`. */
  toParameters(options: z.output<S>): Record<string, unknown>;
  /**
   * The template's whole Rego module, `<slug>/<slug>.rego`: package named after the template,
   * rules producing `findings` (see common/gatehouse.rego) and the shared `violation` rule.
   */
  readonly rego: string;
  /** One line on what these options allow. */
  describe: Describe<z.output<S>>;
}

/** The Rego module of the control with this slug, from its folder (loaded via rego-files.ts). */
export function controlRego(slug: string): string {
  const rego = REGO_FILES[`${slug}/${slug}.rego`];
  if (rego === undefined) throw new Error(`no ${slug}/${slug}.rego: add it, then npm run rego:bundle`);
  return rego;
}

/** The shared library every template carries in `libs`. */
export const REGO_LIB = REGO_FILES["common/gatehouse.rego"]!;

export function defineControl<S extends z.ZodType>(control: Control<S>): Control<S> {
  return control;
}

// Loosely typed handle for heterogeneous lists (the catalogue).
export type AnyControl = Control<any>;
