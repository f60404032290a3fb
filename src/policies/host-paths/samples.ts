import { container, pod, workload, type Json, type Sample } from "../sample.ts";

const exemptImage = "registry.example.com/x/log-shipper:5.1";

const hostPath = (name: string, path: string): Json => ({ name, hostPath: { path, type: "Directory" } });
const mount = (name: string, readOnly?: boolean): Json => ({
  volumeMounts: [{ name, mountPath: `/host/${name}`, ...(readOnly === undefined ? {} : { readOnly }) }],
});

/** /var/log read-only, /data writable. */
const logsAndData = { allowed: [{ pathPrefix: "/var/log", readOnly: true }, { pathPrefix: "/data" }] };

export const samples: Sample[] = [
  {
    name: "no-host-path",
    description: "other volume types are not this control's business",
    object: pod({ volumes: [{ name: "scratch", emptyDir: {} }] }),
    expect: [],
  },
  {
    name: "host-path-by-default",
    description: "the default empty list refuses every hostPath volume",
    object: pod({ containers: [container("app", mount("logs", true))], volumes: [hostPath("logs", "/var/log")] }),
    expect: [{ field: "spec.volumes[0].hostPath.path" }],
  },
  {
    name: "log-subdir-read-only",
    description: "a path below a read-only prefix, mounted readOnly by the app and an init container",
    options: logsAndData,
    object: pod({
      initContainers: [container("setup", mount("logs", true))],
      containers: [container("app", mount("logs", true))],
      volumes: [hostPath("logs", "/var/log/app")],
    }),
    expect: [],
  },
  {
    name: "log-prefix-trailing-slash",
    description: "the prefix itself, written with a trailing slash, mounted readOnly",
    options: logsAndData,
    object: pod({ containers: [container("app", mount("logs", true))], volumes: [hostPath("logs", "/var/log/")] }),
    expect: [],
  },
  {
    name: "log-writable-mounts",
    description: "every container kind must mount a read-only path readOnly; unset or false is refused",
    options: logsAndData,
    object: pod({
      initContainers: [container("setup", mount("logs", false))],
      containers: [container("app", mount("logs"))],
      ephemeralContainers: [container("debug", mount("logs", true))],
      volumes: [hostPath("logs", "/var/log")],
    }),
    expect: [
      { container: "setup", field: "volumeMounts[0].readOnly" },
      { container: "app", field: "volumeMounts[0].readOnly" },
    ],
  },
  {
    name: "data-writable",
    description: "a path below a writable prefix may be mounted writable",
    options: logsAndData,
    object: pod({ containers: [container("db", mount("db"))], volumes: [hostPath("db", "/data/db")] }),
    expect: [],
  },
  {
    name: "sibling-prefix-refused",
    description: "matching is per segment: /var/log does not cover /var/logs, nor /database",
    options: logsAndData,
    object: pod({ volumes: [hostPath("logs", "/var/logs"), hostPath("db", "/database")] }),
    expect: [{ field: "spec.volumes[0].hostPath.path" }, { field: "spec.volumes[1].hostPath.path" }],
  },
  {
    name: "dot-dot-escape-refused",
    description: "a path climbing out of an allowed prefix with .. is refused",
    options: logsAndData,
    object: pod({ volumes: [hostPath("etc", "/data/../etc")] }),
    expect: [{ field: "spec.volumes[0].hostPath.path" }],
  },
  {
    name: "writable-entry-wins",
    description: "a path covered by a writable and a read-only entry may be mounted writable",
    options: {
      allowed: [
        { pathPrefix: "/var/log", readOnly: true },
        { pathPrefix: "/var", readOnly: false },
      ],
    },
    object: pod({ containers: [container("app", mount("logs", false))], volumes: [hostPath("logs", "/var/log/app")] }),
    expect: [],
  },
  {
    name: "root-read-only",
    description: "prefix / read-only admits any path, but only mounted readOnly",
    options: { allowed: [{ pathPrefix: "/", readOnly: true }] },
    object: pod({
      containers: [
        container("reader", mount("etc", true)),
        container("writer", {
          volumeMounts: [
            { name: "x", mountPath: "/x" },
            { name: "etc", mountPath: "/etc-host" },
          ],
        }),
      ],
      volumes: [hostPath("etc", "/etc"), { name: "x", emptyDir: {} }],
    }),
    expect: [{ container: "writer", field: "volumeMounts[1].readOnly" }],
  },
  {
    name: "exempt-image-writes",
    description: "an exempt image may mount a read-only path writable; a non-exempt sidecar may not",
    options: logsAndData,
    exemptions: { images: [{ pattern: "registry.example.com/x/*" }] },
    object: pod({
      containers: [container("shipper", { image: exemptImage, ...mount("logs") }), container("sidecar", mount("logs"))],
      volumes: [hostPath("logs", "/var/log")],
    }),
    expect: [{ container: "sidecar", field: "volumeMounts[0].readOnly" }],
  },
  {
    name: "all-images-exempt",
    description: "when every container is exempt, the pod's hostPath volumes are not checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*" }] },
    object: pod({ containers: [container("shipper", { image: exemptImage, ...mount("root") })], volumes: [hostPath("root", "/")] }),
    expect: [],
  },
  {
    name: "namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ containers: [container("app", mount("root"))], volumes: [hostPath("root", "/")] }),
    expect: [],
  },
  {
    name: "deployment-host-path",
    description: "a Deployment whose pod template mounts /etc (through expansion)",
    object: workload("Deployment", { containers: [container("app", mount("etc", true))], volumes: [hostPath("etc", "/etc")] }),
    expect: [{ field: "spec.volumes[0].hostPath.path" }],
  },
  {
    name: "daemonset-writable-logs",
    description: "a DaemonSet mounting a read-only-only path writable (through expansion)",
    options: logsAndData,
    object: workload("DaemonSet", { containers: [container("agent", mount("logs"))], volumes: [hostPath("logs", "/var/log")] }),
    expect: [{ container: "agent", field: "volumeMounts[0].readOnly" }],
  },
];
