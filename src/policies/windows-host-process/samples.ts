import { container, pod, workload, type Sample } from "../sample.ts";

const hostProcess = { securityContext: { windowsOptions: { hostProcess: true } } };
const windows = { os: { name: "windows" } };

export const samples: Sample[] = [
  { name: "no-windows-options", description: "a plain pod", object: pod(), expect: [] },
  {
    name: "windows-not-host-process",
    description: "Windows options without hostProcess, and hostProcess: false, are fine",
    object: pod({
      ...windows,
      securityContext: { windowsOptions: { runAsUserName: "ContainerUser", hostProcess: false } },
      containers: [container("app", { securityContext: { windowsOptions: { hostProcess: false } } })],
    }),
    expect: [],
  },
  {
    name: "pod-host-process",
    description: "hostProcess at pod level (inherited by every container) is reported once, on the pod",
    object: pod({ ...windows, hostNetwork: true, ...hostProcess }),
    expect: [{ field: "spec.securityContext.windowsOptions.hostProcess" }],
  },
  {
    name: "container-host-process",
    description: "hostProcess on an app container",
    object: pod({ ...windows, hostNetwork: true, containers: [container("app", hostProcess)] }),
    expect: [{ container: "app", field: "securityContext.windowsOptions.hostProcess" }],
  },
  {
    name: "init-and-ephemeral-host-process",
    description: "hostProcess on init and ephemeral containers is caught too",
    object: pod({
      ...windows,
      hostNetwork: true,
      initContainers: [container("setup", hostProcess)],
      ephemeralContainers: [container("debug", hostProcess)],
    }),
    expect: [
      { container: "setup", field: "securityContext.windowsOptions.hostProcess" },
      { container: "debug", field: "securityContext.windowsOptions.hostProcess" },
    ],
  },
  {
    name: "host-process-image-exempt",
    description: "an exempt image may run as HostProcess; other containers are still checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "Windows node exporter" }] },
    object: pod({
      ...windows,
      hostNetwork: true,
      containers: [container("exporter", { image: "registry.example.com/x/windows-exporter:0.25", ...hostProcess }), container("sidecar", hostProcess)],
    }),
    expect: [{ container: "sidecar", field: "securityContext.windowsOptions.hostProcess" }],
  },
  {
    name: "pod-host-process-all-images-exempt",
    description: "pod-level hostProcess is not checked when every container image is exempt",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "Windows node exporter" }] },
    object: pod({
      ...windows,
      hostNetwork: true,
      ...hostProcess,
      containers: [container("exporter", { image: "registry.example.com/x/windows-exporter:0.25" })],
    }),
    expect: [],
  },
  {
    name: "host-process-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ ...windows, hostNetwork: true, ...hostProcess, containers: [container("app", hostProcess)] }),
    expect: [],
  },
  {
    name: "host-process-daemonset",
    description: "a DaemonSet whose pod template runs as HostProcess (through expansion)",
    object: workload("DaemonSet", { ...windows, hostNetwork: true, ...hostProcess }),
    expect: [{ field: "spec.securityContext.windowsOptions.hostProcess" }],
  },
  {
    name: "host-process-job-container",
    description: "a Job whose container runs as HostProcess (through expansion)",
    object: workload("Job", { ...windows, hostNetwork: true, containers: [container("app", hostProcess)] }),
    expect: [{ container: "app", field: "securityContext.windowsOptions.hostProcess" }],
  },
];
