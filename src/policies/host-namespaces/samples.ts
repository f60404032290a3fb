import { container, pod, workload, type Sample } from "../sample.ts";

const exemptImage = "registry.example.com/x/node-agent:3.0";

export const samples: Sample[] = [
  { name: "no-host-namespaces", description: "neither hostPID nor hostIPC set", object: pod(), expect: [] },
  {
    name: "host-namespaces-false",
    description: "hostPID and hostIPC explicitly false",
    object: pod({ hostPID: false, hostIPC: false }),
    expect: [],
  },
  {
    name: "host-pid",
    description: "hostPID: true with the default options",
    object: pod({ hostPID: true }),
    expect: [{ field: "spec.hostPID" }],
  },
  {
    name: "host-ipc",
    description: "hostIPC: true with the default options",
    object: pod({ hostIPC: true }),
    expect: [{ field: "spec.hostIPC" }],
  },
  {
    name: "host-pid-and-ipc",
    description: "both namespaces shared: two findings",
    object: pod({ hostPID: true, hostIPC: true }),
    expect: [{ field: "spec.hostPID" }, { field: "spec.hostIPC" }],
  },
  {
    name: "host-pid-allowed",
    description: "allowHostPID admits hostPID",
    options: { allowHostPID: true },
    object: pod({ hostPID: true }),
    expect: [],
  },
  {
    name: "host-pid-allowed-ipc-refused",
    description: "allowHostPID does not admit hostIPC",
    options: { allowHostPID: true },
    object: pod({ hostPID: true, hostIPC: true }),
    expect: [{ field: "spec.hostIPC" }],
  },
  {
    name: "host-ipc-allowed",
    description: "allowHostIPC admits hostIPC",
    options: { allowHostIPC: true },
    object: pod({ hostIPC: true }),
    expect: [],
  },
  {
    name: "host-ipc-allowed-pid-refused",
    description: "allowHostIPC does not admit hostPID",
    options: { allowHostIPC: true },
    object: pod({ hostPID: true, hostIPC: true }),
    expect: [{ field: "spec.hostPID" }],
  },
  {
    name: "host-pid-all-images-exempt",
    description: "every container, init container and ephemeral container has an exempt image: pod fields are not checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "node agent" }] },
    object: pod({
      hostPID: true,
      hostIPC: true,
      containers: [container("agent", { image: exemptImage })],
      initContainers: [container("setup", { image: exemptImage })],
      ephemeralContainers: [container("debug", { image: exemptImage })],
    }),
    expect: [],
  },
  {
    name: "host-pid-init-not-exempt",
    description: "one init container with a non-exempt image keeps the pod fields checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "node agent" }] },
    object: pod({
      hostPID: true,
      containers: [container("agent", { image: exemptImage })],
      initContainers: [container("setup")],
    }),
    expect: [{ field: "spec.hostPID" }],
  },
  {
    name: "host-pid-ephemeral-not-exempt",
    description: "a non-exempt ephemeral (debug) container keeps the pod fields checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "node agent" }] },
    object: pod({
      hostIPC: true,
      containers: [container("agent", { image: exemptImage })],
      ephemeralContainers: [container("debug")],
    }),
    expect: [{ field: "spec.hostIPC" }],
  },
  {
    name: "host-pid-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ hostPID: true, hostIPC: true }),
    expect: [],
  },
  {
    name: "host-pid-daemonset",
    description: "a DaemonSet whose pod template shares the host PID namespace (through expansion)",
    object: workload("DaemonSet", { hostPID: true }),
    expect: [{ field: "spec.hostPID" }],
  },
  {
    name: "host-ipc-cronjob",
    description: "a CronJob whose pod template shares the host IPC namespace (through expansion)",
    object: workload("CronJob", { hostIPC: true }),
    expect: [{ field: "spec.hostIPC" }],
  },
];
