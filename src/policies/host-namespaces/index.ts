// Sharing the host's PID or IPC namespace lets a pod see and signal every process on the node
// and read its shared memory; both are off unless an option turns them on.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./host-namespaces.cel.ts";

export const hostNamespaces = defineControl({
  id: "hostNamespaces",
  slug: "host-namespaces",
  kind: "GatehouseHostNamespaces",
  title: "Host PID and IPC namespaces",
  description: "Refuses pods that set spec.hostPID or spec.hostIPC to true, unless the option allows it.",
  options: z.strictObject({
    allowHostPID: z.boolean().default(false).describe("allow spec.hostPID: true (the pod sees every process on the node)"),
    allowHostIPC: z.boolean().default(false).describe("allow spec.hostIPC: true (the pod shares the node's System V IPC and POSIX shared memory)"),
  }),
  parameters: z.strictObject({
    allowHostPID: z.boolean(),
    allowHostIPC: z.boolean(),
  }),
  toParameters: (o) => ({ allowHostPID: o.allowHostPID, allowHostIPC: o.allowHostIPC }),
  rego: controlRego("host-namespaces"),
  cel,
  describe: (o) => {
    const word = (allowed: boolean) => (allowed ? "allowed" : "not allowed");
    return `hostPID ${word(o.allowHostPID)}; hostIPC ${word(o.allowHostIPC)}`;
  },
});
