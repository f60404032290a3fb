// Host networking puts the pod on the node's network stack (every interface, loopback services,
// the ability to sniff traffic); hostPort binds a node port for a container. Both are off unless
// an option turns them on, and host ports are limited to the listed ranges.
import { z } from "zod";
import { nonOverlapping } from "../common/schemas.ts";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./host-network-ports.cel.ts";

export const MAX_PORT = 65_535;

export const PortRange = z
  .strictObject({
    min: z.int().min(1).max(MAX_PORT).describe("lowest allowed host port"),
    max: z.int().min(1).max(MAX_PORT).describe("highest allowed host port (equal to min for a single port)"),
  })
  .refine((r) => r.min <= r.max, { message: "min must be <= max", path: ["max"] });
export type PortRange = z.infer<typeof PortRange>;

/** Port ranges that must not overlap; sorted by min so equal settings render identically. */
export const PortRanges = nonOverlapping(PortRange).transform((ranges) => [...ranges].sort((a, b) => a.min - b.min));

export const formatRange = (r: PortRange) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`);

export const hostNetworkPorts = defineControl({
  id: "hostNetworkPorts",
  slug: "host-network-ports",
  kind: "GatehouseHostNetworkPorts",
  title: "Host network and host ports",
  description: "Refuses pods that set spec.hostNetwork: true unless allowed, and containers whose ports[].hostPort lies outside the allowed ranges.",
  options: z.strictObject({
    allowHostNetwork: z.boolean().default(false).describe("allow spec.hostNetwork: true (the pod uses the node's network namespace)"),
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
  rego: controlRego("host-network-ports"),
  cel,
  describe: (o) => {
    const ports = o.hostPorts.length === 0 ? "no host ports" : `host ports ${o.hostPorts.map(formatRange).join(", ")}`;
    return `hostNetwork ${o.allowHostNetwork ? "allowed" : "not allowed"}; ${ports}`;
  },
});
