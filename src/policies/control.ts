// What a control is: its options (zod, with defaults), how options become Gatekeeper
// parameters, and its Rego. Everything else (names, labels, hashing, exemptions) is shared.
import { z } from "zod";

/** One finding in prose, for the summary a user reads before enforcing. */
export type Describe<O> = (options: O) => string;

export interface Control<S extends z.ZodType = z.ZodType> {
  /** Key in the settings document, camelCase: `privilegedContainers`. */
  readonly id: string;
  /** Folder, constraint name and label value, kebab-case: `privileged-containers`. */
  readonly slug: string;
  /** Constraint kind; the template is named after it in lower case. */
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
  /** Rego body: rules producing `findings` (see common/rego-lib.ts). Package and imports are added. */
  readonly rego: string;
  /** One line on what these options allow. */
  describe: Describe<z.output<S>>;
}

export function defineControl<S extends z.ZodType>(control: Control<S>): Control<S> {
  return control;
}

// Loosely typed handle for heterogeneous lists (the catalogue).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyControl = Control<any>;
