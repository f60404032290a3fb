import { container, pod, workload, type Sample } from "../sample.ts";

const withProcMount = (procMount: string) => ({ securityContext: { procMount } });
const unmasked = withProcMount("Unmasked");
const field = "securityContext.procMount";

export const samples: Sample[] = [
  {
    name: "procmount-unset",
    description: "default allowed=Default: no procMount at all",
    object: pod(),
    expect: [],
  },
  {
    name: "procmount-default",
    description: "allowed=Default: an explicit Default on every kind of container",
    options: { allowed: "Default" },
    object: pod({
      containers: [container("app", withProcMount("Default"))],
      initContainers: [container("setup", withProcMount("Default"))],
      ephemeralContainers: [container("debug", withProcMount("Default"))],
    }),
    expect: [],
  },
  {
    name: "procmount-unmasked",
    description: "allowed=Default: an Unmasked app container",
    object: pod({ hostUsers: false, containers: [container("app", unmasked)] }),
    expect: [{ container: "app", field }],
  },
  {
    name: "procmount-unmasked-init-ephemeral",
    description: "allowed=Default: init and ephemeral containers are checked too",
    options: { allowed: "Default" },
    object: pod({
      initContainers: [container("setup", unmasked)],
      ephemeralContainers: [container("debug", unmasked)],
    }),
    expect: [
      { container: "setup", field },
      { container: "debug", field },
    ],
  },
  {
    name: "procmount-unknown-type",
    description: "allowed=Default: a value other than Default is refused, not only Unmasked",
    object: pod({ containers: [container("app", withProcMount("Masked"))] }),
    expect: [{ container: "app", field }],
  },
  {
    name: "procmount-allowed-unmasked",
    description: "allowed=Unmasked: Unmasked is accepted",
    options: { allowed: "Unmasked" },
    object: pod({ hostUsers: false, containers: [container("app", unmasked)], initContainers: [container("setup")] }),
    expect: [],
  },
  {
    name: "procmount-image-exempt",
    description: "an exempt image may use Unmasked; the other container is still checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "nested containers" }] },
    object: pod({
      hostUsers: false,
      containers: [container("builder", { image: "registry.example.com/x/buildkit:0.13", ...unmasked }), container("app", unmasked)],
    }),
    expect: [{ container: "app", field }],
  },
  {
    name: "procmount-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ hostUsers: false, containers: [container("app", unmasked)] }),
    expect: [],
  },
  {
    name: "procmount-daemonset",
    description: "a DaemonSet whose pod template uses Unmasked (through expansion)",
    object: workload("DaemonSet", { hostUsers: false, containers: [container("app", unmasked)] }),
    expect: [{ container: "app", field }],
  },
  {
    name: "user-namespace-any-proc-mount",
    description: "anyInUserNamespace true (PSS baseline v1.35+): a pod with hostUsers: false may unmask /proc",
    options: { anyInUserNamespace: true },
    object: pod({ hostUsers: false, containers: [container("app", unmasked)], initContainers: [container("setup", unmasked)] }),
    expect: [],
  },
  {
    name: "user-namespace-checked-by-default",
    description: "anyInUserNamespace false (default, and PSS restricted): hostUsers: false does not relax the check",
    object: pod({ hostUsers: false, containers: [container("app", unmasked)] }),
    expect: [{ container: "app", field }],
  },
];
