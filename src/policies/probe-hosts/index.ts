// A probe or lifecycle hook with a `host` makes the kubelet send requests from the node to any
// address the pod names (a confused-deputy path into node-local or internal services). Pod
// Security Standards baseline requires `host` to be unset, which means the pod's own IP.
import { z } from "zod";
import { sortedSet } from "../common/schemas.ts";
import { defineControl } from "../control.ts";

/** A hostname or IP address; hostnames are case-insensitive, so they are stored in lower case. */
export const ProbeHost = z
  .string()
  .min(1, { message: "must not be empty (an unset host is always allowed)" })
  .max(253)
  .transform((h) => h.toLowerCase())
  .pipe(
    z.string().regex(/^[a-z0-9._:-]+$/, {
      message: "must be a hostname or IP address: letters, digits, '.', '-', '_' or ':', no spaces or wildcards",
    }),
  );

export const probeHosts = defineControl({
  id: "probeHosts",
  slug: "probe-hosts",
  kind: "GatehouseProbeHosts",
  title: "Probe and lifecycle hook hosts",
  description:
    "Refuses containers whose httpGet or tcpSocket probes or lifecycle hooks set a host other than the pod itself (or an allowed host).",
  options: z.strictObject({
    allowedHosts: sortedSet(ProbeHost)
      .default([])
      .describe(
        "hostnames or IP addresses probes and hooks may target besides the pod itself (exact, case-insensitive); empty = host must be unset",
      ),
  }),
  parameters: z.strictObject({
    allowedHosts: z.array(z.string()),
  }),
  toParameters: (o) => ({ allowedHosts: [...o.allowedHosts] }),
  rego: String.raw`
probe_kinds := ["livenessProbe", "readinessProbe", "startupProbe"]

hook_kinds := ["postStart", "preStop"]

handler_kinds := ["httpGet", "tcpSocket"]

findings contains f if {
	some ct in gh.containers
	some probe in probe_kinds
	some handler in handler_kinds
	host := ct.container[probe][handler].host
	not host_allowed(host)
	f := gh.container_finding(ct, sprintf("%s.%s.host", [probe, handler]), host, hosts_why)
}

findings contains f if {
	some ct in gh.containers
	some hook in hook_kinds
	some handler in handler_kinds
	host := ct.container.lifecycle[hook][handler].host
	not host_allowed(host)
	f := gh.container_finding(ct, sprintf("lifecycle.%s.%s.host", [hook, handler]), host, hosts_why)
}

# Unset, null and "" all mean the pod's own IP.
host_allowed(host) if host == ""

host_allowed(host) if host == null

host_allowed(host) if {
	is_string(host)
	lower(host) in object.get(input.parameters, "allowedHosts", [])
}

hosts_why := "the host must be unset (the pod's own IP)" if {
	count(object.get(input.parameters, "allowedHosts", [])) == 0
} else := sprintf("the host must be unset (the pod's own IP) or one of: %s", [concat(", ", input.parameters.allowedHosts)])
`,
  describe: (o) =>
    o.allowedHosts.length === 0
      ? "probe and lifecycle hook hosts must be unset"
      : `probe and lifecycle hook hosts must be unset or one of ${o.allowedHosts.join(", ")}`,
});
