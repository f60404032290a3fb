// A hostPath volume mounts a directory of the node into the pod: a writable one can plant files
// the node executes or read other tenants' data. This control admits hostPath volumes only under
// the listed path prefixes, and read-only where the entry says so.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./host-paths.cel.ts";

/** Why a path prefix is malformed, or undefined when it is fine. */
export function pathPrefixProblem(p: string): string | undefined {
  if (!p.startsWith("/")) return "must be an absolute path (start with /)";
  if (p.length > 4096) return "must be at most 4096 characters";
  if (p === "/") return undefined;
  if (p.endsWith("/")) return "must not end with / (write /var/log, not /var/log/)";
  if (/\s/.test(p)) return "must not contain whitespace";
  if (p.includes("*")) return "is a plain path prefix; globs are not supported";
  if (
    p
      .split("/")
      .slice(1)
      .some((s) => s === ".." || s === "." || s === "")
  ) {
    return "must not contain '..', '.' or empty (//) segments";
  }
  return undefined;
}

/** An absolute path without `..`, `.` or empty segments, and without a trailing slash (except `/`). */
export const PathPrefix = z.string().superRefine((p, ctx) => {
  const problem = pathPrefixProblem(p);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const HostPathEntry = z.strictObject({
  pathPrefix: PathPrefix.describe("absolute path; matches itself and everything below it, per segment (/var/log matches /var/log/app, not /var/logs)"),
  readOnly: z.boolean().default(false).describe("when true, every container mounting a volume under this prefix must mount it readOnly"),
});
export type HostPathEntry = z.infer<typeof HostPathEntry>;

export const HostPathList = z
  .array(HostPathEntry)
  .max(128)
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((e, i) => {
      const first = seen.get(e.pathPrefix);
      if (first !== undefined) {
        ctx.addIssue({ code: "custom", path: [i, "pathPrefix"], message: `duplicate of entry ${first}` });
      } else seen.set(e.pathPrefix, i);
    });
  })
  .transform((list) => [...list].sort((a, b) => (a.pathPrefix < b.pathPrefix ? -1 : a.pathPrefix > b.pathPrefix ? 1 : 0)));

export const formatEntry = (e: HostPathEntry) => (e.readOnly ? `${e.pathPrefix} (read-only)` : e.pathPrefix);

export const hostPaths = defineControl({
  id: "hostPaths",
  slug: "host-paths",
  kind: "GatehouseHostPaths",
  title: "Host path volumes",
  description: "Refuses hostPath volumes outside the allowed path prefixes, and writable mounts of paths allowed read-only only.",
  options: z.strictObject({
    allowed: HostPathList.default([]).describe("host path prefixes pods may mount (distinct, sorted); empty = no hostPath volume is allowed"),
  }),
  parameters: z.strictObject({
    allowed: z.array(z.strictObject({ pathPrefix: z.string(), readOnly: z.boolean() })),
  }),
  toParameters: (o) => ({ allowed: o.allowed.map((e) => ({ pathPrefix: e.pathPrefix, readOnly: e.readOnly })) }),
  rego: controlRego("host-paths"),
  cel,
  describe: (o) => (o.allowed.length === 0 ? "no hostPath volumes" : `hostPath under ${o.allowed.map(formatEntry).join(", ")}`),
});
