// A hostPath volume mounts a directory of the node into the pod: a writable one can plant files
// the node executes or read other tenants' data. This control admits hostPath volumes only under
// the listed path prefixes, and read-only where the entry says so.
import { z } from "zod";
import { defineControl } from "../control.ts";

/** Why a path prefix is malformed, or undefined when it is fine. */
export function pathPrefixProblem(p: string): string | undefined {
  if (!p.startsWith("/")) return "must be an absolute path (start with /)";
  if (p.length > 4096) return "must be at most 4096 characters";
  if (p === "/") return undefined;
  if (p.endsWith("/")) return "must not end with / (write /var/log, not /var/log/)";
  if (/\s/.test(p)) return "must not contain whitespace";
  if (p.includes("*")) return "is a plain path prefix; globs are not supported";
  if (p.split("/").slice(1).some((s) => s === ".." || s === "." || s === "")) {
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
  pathPrefix: PathPrefix.describe(
    "absolute path; matches itself and everything below it, per segment (/var/log matches /var/log/app, not /var/logs)",
  ),
  readOnly: z
    .boolean()
    .default(false)
    .describe("when true, every container mounting a volume under this prefix must mount it readOnly"),
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
  description:
    "Refuses hostPath volumes outside the allowed path prefixes, and writable mounts of paths allowed read-only only.",
  options: z.strictObject({
    allowed: HostPathList.default([]).describe(
      "host path prefixes pods may mount (distinct, sorted); empty = no hostPath volume is allowed",
    ),
  }),
  parameters: z.strictObject({
    allowed: z.array(z.strictObject({ pathPrefix: z.string(), readOnly: z.boolean() })),
  }),
  toParameters: (o) => ({ allowed: o.allowed.map((e) => ({ pathPrefix: e.pathPrefix, readOnly: e.readOnly })) }),
  rego: String.raw`
allowed_host_paths := object.get(input.parameters, "allowed", [])

# A hostPath without a path gets "" and is refused (fail closed).
host_path_volumes contains {"index": i, "name": object.get(v, "name", ""), "path": object.get(v.hostPath, "path", "")} if {
	some i, v in object.get(gh.pod, ["spec", "volumes"], [])
	is_object(v.hostPath)
}

# Entries whose prefix covers the path, per segment. A path with a ".." segment escapes any
# prefix, so nothing covers it (the API server refuses it too).
covering(path) := [e |
	some e in allowed_host_paths
	not ".." in split(path, "/")
	prefix_covers(e.pathPrefix, trim_trailing_slashes(path))
]

trim_trailing_slashes(p) := "/" if {
	startswith(p, "/")
	trim_right(p, "/") == ""
} else := trim_right(p, "/")

prefix_covers("/", path) if startswith(path, "/")

prefix_covers(prefix, path) if path == prefix

prefix_covers(prefix, path) if startswith(path, concat("", [prefix, "/"]))

# Writable only if some covering entry is not read-only.
writable(path) if {
	some e in covering(path)
	not e.readOnly
}

findings contains f if {
	gh.pod_checked
	some v in host_path_volumes
	count(covering(v.path)) == 0
	f := gh.pod_finding(sprintf("spec.volumes[%d].hostPath.path", [v.index]), v.path, host_paths_why)
}

findings contains f if {
	some v in host_path_volumes
	count(covering(v.path)) > 0
	not writable(v.path)
	some ct in gh.containers
	some j, m in object.get(ct.container, "volumeMounts", [])
	m.name == v.name
	object.get(m, "readOnly", false) != true
	why := sprintf("host path %s (volume %q) is allowed read-only only; set readOnly: true", [v.path, v.name])
	f := gh.container_finding(ct, sprintf("volumeMounts[%d].readOnly", [j]), object.get(m, "readOnly", null), why)
}

host_paths_why := "no hostPath volumes are allowed" if {
	count(allowed_host_paths) == 0
} else := sprintf("allowed host path prefixes: %s", [concat(", ", [entry_text(e) | some e in allowed_host_paths])])

entry_text(e) := sprintf("%s (read-only)", [e.pathPrefix]) if {
	e.readOnly
} else := e.pathPrefix
`,
  describe: (o) =>
    o.allowed.length === 0 ? "no hostPath volumes" : `hostPath under ${o.allowed.map(formatEntry).join(", ")}`,
});
