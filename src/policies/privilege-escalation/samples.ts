import { container, pod, workload, type Sample } from "../sample.ts";

const noEscalation = { securityContext: { allowPrivilegeEscalation: false } };
const escalation = { securityContext: { allowPrivilegeEscalation: true } };
const field = "securityContext.allowPrivilegeEscalation";

export const samples: Sample[] = [
  {
    name: "escalation-false",
    description: "every kind of container sets allowPrivilegeEscalation: false",
    object: pod({
      containers: [container("app", noEscalation)],
      initContainers: [container("setup", noEscalation)],
      ephemeralContainers: [container("debug", noEscalation)],
    }),
    expect: [],
  },
  {
    name: "escalation-unset",
    description: "unset means allowed, so it is refused (the default pod)",
    object: pod(),
    expect: [{ container: "app", field }],
  },
  {
    name: "escalation-true",
    description: "explicitly true",
    object: pod({ containers: [container("app", escalation)] }),
    expect: [{ container: "app", field }],
  },
  {
    name: "escalation-init-ephemeral",
    description: "init and ephemeral containers are checked too; an empty securityContext counts as unset",
    object: pod({
      containers: [container("app", noEscalation)],
      initContainers: [container("setup", { securityContext: {} })],
      ephemeralContainers: [container("debug", escalation)],
    }),
    expect: [
      { container: "setup", field },
      { container: "debug", field },
    ],
  },
  {
    name: "escalation-windows",
    description: "a Windows pod cannot set the field and is not checked (Pod Security Standards)",
    object: pod({ os: { name: "windows" } }),
    expect: [],
  },
  {
    name: "escalation-linux-os",
    description: "spec.os.name linux is checked as usual",
    object: pod({ os: { name: "linux" } }),
    expect: [{ container: "app", field }],
  },
  {
    name: "escalation-image-exempt",
    description: "an exempt image may escalate; the other container is still checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "needs sudo" }] },
    object: pod({
      containers: [container("tool", { image: "registry.example.com/x/tool:3", ...escalation }), container("app")],
    }),
    expect: [{ container: "app", field }],
  },
  {
    name: "escalation-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ containers: [container("app", escalation)] }),
    expect: [],
  },
  {
    name: "escalation-cronjob",
    description: "a CronJob whose pod template leaves the field unset (through expansion)",
    object: workload("CronJob", {}),
    expect: [{ container: "app", field }],
  },
  {
    name: "escalation-deployment-ok",
    description: "a Deployment whose pod template sets it to false",
    object: workload("Deployment", { containers: [container("app", noEscalation)] }),
    expect: [],
  },
];
