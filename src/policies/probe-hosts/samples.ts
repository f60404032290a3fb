import { container, pod, workload, type Sample } from "../sample.ts";

const http = (host?: string) => ({ httpGet: { path: "/healthz", port: 8080, ...(host === undefined ? {} : { host }) } });
const tcp = (host?: string) => ({ tcpSocket: { port: 8080, ...(host === undefined ? {} : { host }) } });
const allowInternal = { allowedHosts: ["Metrics.Internal.example.com", "10.0.0.10"] };

export const samples: Sample[] = [
  { name: "no-probes", description: "a container without probes or hooks", object: pod(), expect: [] },
  {
    name: "probes-without-host",
    description: "every probe and hook kind with host unset or empty targets the pod itself",
    object: pod({
      containers: [
        container("app", {
          livenessProbe: http(),
          readinessProbe: tcp(""),
          startupProbe: { exec: { command: ["true"] } },
          lifecycle: { postStart: http(""), preStop: tcp() },
        }),
      ],
    }),
    expect: [],
  },
  {
    name: "probe-hosts-every-field",
    description: "a host in each probe and hook handler is reported at its own field",
    object: pod({
      containers: [
        container("app", {
          livenessProbe: http("169.254.169.254"),
          readinessProbe: tcp("kubernetes.default.svc"),
          startupProbe: http("localhost"),
          lifecycle: { postStart: tcp("10.0.0.1"), preStop: http("example.com") },
        }),
      ],
    }),
    expect: [
      { container: "app", field: "livenessProbe.httpGet.host" },
      { container: "app", field: "readinessProbe.tcpSocket.host" },
      { container: "app", field: "startupProbe.httpGet.host" },
      { container: "app", field: "lifecycle.postStart.tcpSocket.host" },
      { container: "app", field: "lifecycle.preStop.httpGet.host" },
    ],
  },
  {
    name: "probe-hosts-other-fields",
    description: "the remaining probe/handler pairs are checked too, in init and ephemeral containers",
    object: pod({
      initContainers: [
        container("sidecar", {
          restartPolicy: "Always",
          livenessProbe: tcp("10.0.0.2"),
          readinessProbe: http("10.0.0.3"),
          startupProbe: tcp("10.0.0.4"),
          lifecycle: { postStart: http("10.0.0.5"), preStop: tcp("10.0.0.6") },
        }),
      ],
      ephemeralContainers: [container("debug", { lifecycle: { preStop: http("10.0.0.7") } })],
    }),
    expect: [
      { container: "sidecar", field: "livenessProbe.tcpSocket.host" },
      { container: "sidecar", field: "readinessProbe.httpGet.host" },
      { container: "sidecar", field: "startupProbe.tcpSocket.host" },
      { container: "sidecar", field: "lifecycle.postStart.httpGet.host" },
      { container: "sidecar", field: "lifecycle.preStop.tcpSocket.host" },
      { container: "debug", field: "lifecycle.preStop.httpGet.host" },
    ],
  },
  {
    name: "probe-hosts-allowed",
    description: "allowedHosts admits the listed hosts, case-insensitively",
    options: allowInternal,
    object: pod({
      containers: [
        container("app", {
          livenessProbe: http("metrics.internal.EXAMPLE.com"),
          readinessProbe: tcp("10.0.0.10"),
          lifecycle: { preStop: http() },
        }),
      ],
    }),
    expect: [],
  },
  {
    name: "probe-hosts-not-listed",
    description: "allowedHosts is an exact list: other hosts and sub-domains are still refused",
    options: allowInternal,
    object: pod({
      containers: [
        container("app", {
          livenessProbe: http("10.0.0.11"),
          readinessProbe: tcp("a.metrics.internal.example.com"),
        }),
      ],
    }),
    expect: [
      { container: "app", field: "livenessProbe.httpGet.host" },
      { container: "app", field: "readinessProbe.tcpSocket.host" },
    ],
  },
  {
    name: "probe-host-image-exempt",
    description: "an exempt image may probe any host; other containers are still checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "blackbox prober" }] },
    object: pod({
      containers: [
        container("prober", { image: "registry.example.com/x/prober:1.0", livenessProbe: http("10.0.0.1") }),
        container("sidecar", { livenessProbe: http("10.0.0.1") }),
      ],
    }),
    expect: [{ container: "sidecar", field: "livenessProbe.httpGet.host" }],
  },
  {
    name: "probe-host-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ containers: [container("app", { livenessProbe: http("10.0.0.1") })] }),
    expect: [],
  },
  {
    name: "probe-host-statefulset",
    description: "a StatefulSet whose pod template probes another host (through expansion)",
    object: workload("StatefulSet", { containers: [container("app", { readinessProbe: http("db.example.com") })] }),
    expect: [{ container: "app", field: "readinessProbe.httpGet.host" }],
  },
];
