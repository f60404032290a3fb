// A Windows HostProcess container runs directly on the node as a host process with full
// access to the host; Pod Security Standards baseline forbids it.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./windows-host-process.cel.ts";

export const windowsHostProcess = defineControl({
  id: "windowsHostProcess",
  slug: "windows-host-process",
  kind: "GatehouseWindowsHostProcess",
  title: "Windows HostProcess containers",
  description: "Refuses pods and containers that set securityContext.windowsOptions.hostProcess: true (Pod Security Standards baseline).",
  options: z.strictObject({}),
  parameters: z.strictObject({}),
  toParameters: () => ({}),
  rego: controlRego("windows-host-process"),
  cel,
  describe: () => "no pod or container may run as a Windows HostProcess",
});
