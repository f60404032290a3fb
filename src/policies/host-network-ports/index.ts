// Host networking puts the pod on the node's network stack (every interface, loopback services,
// the ability to sniff traffic); hostPort binds a node port for a container. Both are off unless
// an option turns them on, and host ports are limited to the listed ranges.
import { z } from "zod";
import { nonOverlapping } from "../common/schemas.ts";
import { defineControl } from "../control.ts";

export const MAX_PORT = 65_535;

export const PortRange = z
  .strictObject({
    min: z.int().min(1).max(MAX_PORT).describe("lowest allowed host port"),
    max: z.int().min(1).max(MAX_PORT).describe("highest allowed host port (equal to min for a single port)"),
  })
  .refine((r) => r.min <= r.max, { message: "min must be <= max", path: ["max"] });
export type PortRange = z.infer<typeof PortRange>;

/** Port ranges that must not overlap; sorted by min so equal settings render identically. */
export const PortRanges = nonOverlapping(PortRange)
  .transform((ranges) => [...ranges].sort((a, b) => a.min - b.min));

export const formatRange = (r: PortRange) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`);

export const hostNetworkPorts = defineControl({
  id: "hostNetworkPorts",
  slug: "host-network-ports",
  kind: "GatehouseHostNetworkPorts",
  title: "Host network and host ports",
  description:
    "Refuses pods that set spec.hostNetwork: true unless allowed, and containers whose ports[].hostPort lies outside the allowed ranges.",
  options: z.strictObject({
    allowHostNetwork: z
      .boolean()
      .default(false)
      .describe("allow spec.hostNetwork: true (the pod uses the node's network namespace)"),
    hostPorts: PortRanges.default([]).describe(
      "host port ranges containers may bind (inclusive, 1-65535, non-overlapping); empty = no host ports. hostPort 0 or unset is always allowed",
    ),
  }),
  parameters: z.strictObject({
    allowHostNetwork: z.boolean(),
    hostPorts: z.array(z.strictObject({ min: z.int(), max: z.int() })),
  }),
  toParameters: (o) => ({
    allowHostNetwork: o.allowHostNetwork,
    hostPorts: o.hostPorts.map((r) => ({ min: r.min, max: r.max })),
  }),
  rego: String.raw`
findings contains f if {
	gh.pod_checked
	gh.pod.spec.hostNetwork == true
	not input.parameters.allowHostNetwork
	f := gh.pod_finding("spec.hostNetwork", true, "sharing the host network namespace is not allowed (allowHostNetwork is false)")
}

# hostPort 0 or unset means "no host port" and is always fine.
findings contains f if {
	some ct in gh.containers
	some i, p in object.get(ct.container, "ports", [])
	port := object.get(p, "hostPort", 0)
	port != 0
	not host_port_allowed(port)
	f := gh.container_finding(ct, sprintf("ports[%d].hostPort", [i]), port, host_ports_why)
}

allowed_host_ports := object.get(input.parameters, "hostPorts", [])

host_port_allowed(port) if {
	some r in allowed_host_ports
	r.min <= port
	port <= r.max
}

host_ports_why := "no host ports are allowed" if {
	count(allowed_host_ports) == 0
} else := sprintf("allowed host port ranges: %s", [concat(", ", [port_range(r) | some r in allowed_host_ports])])

port_range(r) := sprintf("%d", [r.min]) if {
	r.min == r.max
} else := sprintf("%d-%d", [r.min, r.max])
`,
  describe: (o) => {
    const ports = o.hostPorts.length === 0 ? "no host ports" : `host ports ${o.hostPorts.map(formatRange).join(", ")}`;
    return `hostNetwork ${o.allowHostNetwork ? "allowed" : "not allowed"}; ${ports}`;
  },
});
