// A probe or lifecycle hook with a `host` makes the kubelet send requests from the node to any
// address the pod names (a confused-deputy path into node-local or internal services). Pod
// Security Standards baseline requires `host` to be unset, which means the pod's own IP.
import { z } from "zod";
import { sortedSet } from "../common/schemas.ts";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./probe-hosts.cel.ts";

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
  description: "Refuses containers whose httpGet or tcpSocket probes or lifecycle hooks set a host other than the pod itself (or an allowed host).",
  options: z.strictObject({
    allowedHosts: sortedSet(ProbeHost)
      .default([])
      .describe("hostnames or IP addresses probes and hooks may target besides the pod itself (exact, case-insensitive); empty = host must be unset"),
  }),
  parameters: z.strictObject({
    allowedHosts: z.array(z.string()),
  }),
  toParameters: (o) => ({ allowedHosts: [...o.allowedHosts] }),
  rego: controlRego("probe-hosts"),
  cel,
  describe: (o) =>
    o.allowedHosts.length === 0
      ? "probe and lifecycle hook hosts must be unset"
      : `probe and lifecycle hook hosts must be unset or one of ${o.allowedHosts.join(", ")}`,
});
