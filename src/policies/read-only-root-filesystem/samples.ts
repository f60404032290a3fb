import { container, pod, workload, type Json, type Sample } from "../sample.ts";

const exemptImage = "registry.example.com/x/legacy:0.9";
const ro: Json = { securityContext: { readOnlyRootFilesystem: true } };
const rw: Json = { securityContext: { readOnlyRootFilesystem: false } };
const field = "securityContext.readOnlyRootFilesystem";

export const samples: Sample[] = [
  {
    name: "read-only-everywhere",
    description: "every container kind sets readOnlyRootFilesystem: true; writes go to an emptyDir",
    object: pod({
      initContainers: [container("setup", ro)],
      containers: [container("app", { ...ro, volumeMounts: [{ name: "tmp", mountPath: "/tmp" }] })],
      ephemeralContainers: [container("debug", ro)],
      volumes: [{ name: "tmp", emptyDir: {} }],
    }),
    expect: [],
  },
  {
    name: "unset",
    description: "no securityContext at all: the default is a writable root filesystem",
    object: pod(),
    expect: [{ container: "app", field }],
  },
  {
    name: "explicit-false",
    description: "readOnlyRootFilesystem: false",
    object: pod({ containers: [container("app", rw)] }),
    expect: [{ container: "app", field }],
  },
  {
    name: "init-and-ephemeral",
    description: "init and ephemeral containers are checked too; the read-only app container passes",
    object: pod({
      initContainers: [container("setup", { securityContext: { runAsNonRoot: true } })],
      containers: [container("app", ro)],
      ephemeralContainers: [container("debug", rw)],
    }),
    expect: [
      { container: "setup", field },
      { container: "debug", field },
    ],
  },
  {
    name: "pod-level-does-not-count",
    description: "there is no pod-level readOnlyRootFilesystem; a pod securityContext does not help",
    object: pod({ securityContext: { runAsNonRoot: true }, containers: [container("app")] }),
    expect: [{ container: "app", field }],
  },
  {
    name: "windows-pod-skipped",
    description: "a Windows pod cannot set the field, so it is not checked",
    object: pod({ os: { name: "windows" }, containers: [container("app")] }),
    expect: [],
  },
  {
    name: "linux-pod-checked",
    description: "an explicit Linux pod is checked",
    object: pod({ os: { name: "linux" }, containers: [container("app")] }),
    expect: [{ container: "app", field }],
  },
  {
    name: "image-exempt",
    description: "an exempt image may write its root filesystem; a non-exempt sidecar may not",
    exemptions: { images: [{ pattern: "registry.example.com/x/*" }] },
    object: pod({ containers: [container("legacy", { image: exemptImage }), container("sidecar", rw)] }),
    expect: [{ container: "sidecar", field }],
  },
  {
    name: "namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod(),
    expect: [],
  },
  {
    name: "job-writable",
    description: "a Job whose pod template leaves the root filesystem writable (through expansion)",
    object: workload("Job", { containers: [container("task")] }),
    expect: [{ container: "task", field }],
  },
  {
    name: "deployment-read-only",
    description: "a Deployment whose pod template is read-only is admitted",
    object: workload("Deployment", { containers: [container("app", ro)] }),
    expect: [],
  },
];
