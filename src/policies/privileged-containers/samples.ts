import { container, pod, workload, type Sample } from "../sample.ts";

const privileged = { securityContext: { privileged: true } };

export const samples: Sample[] = [
  { name: "unprivileged", description: "no securityContext at all", object: pod(), expect: [] },
  {
    name: "privileged-false",
    description: "privileged explicitly false",
    object: pod({ containers: [container("app", { securityContext: { privileged: false } })] }),
    expect: [],
  },
  {
    name: "privileged-container",
    description: "a privileged app container",
    object: pod({ containers: [container("app", privileged)] }),
    expect: [{ container: "app", field: "securityContext.privileged" }],
  },
  {
    name: "privileged-init",
    description: "a privileged init container is caught too",
    object: pod({ initContainers: [container("setup", privileged)] }),
    expect: [{ container: "setup", field: "securityContext.privileged" }],
  },
  {
    name: "privileged-ephemeral",
    description: "a privileged ephemeral (debug) container is caught too",
    object: pod({ ephemeralContainers: [container("debug", privileged)] }),
    expect: [{ container: "debug", field: "securityContext.privileged" }],
  },
  {
    name: "privileged-image-exempt",
    description: "an exempt image may run privileged; other containers are still checked",
    exemptions: { images: [{ pattern: "registry.example.com/cni/*", reason: "CNI agent" }] },
    object: pod({
      containers: [container("cni", { image: "registry.example.com/cni/agent:2.1", ...privileged }), container("sidecar", privileged)],
    }),
    expect: [{ container: "sidecar", field: "securityContext.privileged" }],
  },
  {
    name: "privileged-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ containers: [container("app", privileged)] }),
    expect: [],
  },
  {
    name: "privileged-deployment",
    description: "a Deployment whose pod template is privileged (through expansion)",
    object: workload("Deployment", { containers: [container("app", privileged)] }),
    expect: [{ container: "app", field: "securityContext.privileged" }],
  },
];
