import { container, pod, workload, type Sample } from "../sample.ts";

const profile = (seccompProfile: object) => ({ securityContext: { seccompProfile } });
const runtimeDefault = profile({ type: "RuntimeDefault" });
const unconfined = profile({ type: "Unconfined" });
const localhost = (localhostProfile: string) => profile({ type: "Localhost", localhostProfile });
const baseline = { allowUnset: true };
const onlyAudit = { allowed: ["Localhost/profiles/audit.json"] };
const anyProfile = { allowed: ["Unconfined", "RuntimeDefault", "Localhost/*"] };
const onlyUnset = { allowed: [], allowUnset: true };

export const samples: Sample[] = [
  {
    name: "windows-pod-unset",
    description: "a Windows pod cannot set seccomp at all, so unset is not refused",
    object: pod({ os: { name: "windows" } }),
    expect: [],
  },
  {
    name: "pod-runtime-default",
    description: "a pod-level RuntimeDefault covers every container",
    object: pod({
      securityContext: runtimeDefault.securityContext,
      containers: [container("app"), container("sidecar", localhost("profiles/audit.json"))],
      initContainers: [container("setup")],
    }),
    expect: [],
  },
  {
    name: "unset-refused-by-default",
    description: "with the default allowUnset false, a container with no profile anywhere is refused",
    object: pod({ containers: [container("app"), container("ok", runtimeDefault)] }),
    expect: [{ container: "app", field: "securityContext.seccompProfile" }],
  },
  {
    name: "unconfined-refused",
    description: "Unconfined is refused on a container or inherited from the pod, in every container kind",
    object: pod({
      securityContext: unconfined.securityContext,
      containers: [container("app", unconfined), container("ok", runtimeDefault)],
      initContainers: [container("setup")],
      ephemeralContainers: [container("debug", unconfined)],
    }),
    expect: [
      { container: "app", field: "securityContext.seccompProfile" },
      { container: "setup", field: "securityContext.seccompProfile" },
      { container: "debug", field: "securityContext.seccompProfile" },
    ],
  },
  {
    name: "container-overrides-pod",
    description: "a container's own profile replaces the pod's Unconfined",
    object: pod({
      securityContext: unconfined.securityContext,
      containers: [container("app", runtimeDefault)],
      initContainers: [container("setup", localhost("profiles/init.json"))],
    }),
    expect: [],
  },
  {
    name: "unset-allowed",
    description: "allowUnset admits a pod with no profile (the baseline preset)",
    options: baseline,
    object: pod({ containers: [container("app")], initContainers: [container("setup")] }),
    expect: [],
  },
  {
    name: "unset-allowed-unconfined-refused",
    description: "allowUnset does not admit an explicit Unconfined",
    options: baseline,
    object: pod({ containers: [container("app"), container("sidecar", unconfined)] }),
    expect: [{ container: "sidecar", field: "securityContext.seccompProfile" }],
  },
  {
    name: "named-localhost-allowed",
    description: "a named Localhost profile admits exactly that file",
    options: onlyAudit,
    object: pod({ securityContext: localhost("profiles/audit.json").securityContext }),
    expect: [],
  },
  {
    name: "named-localhost-refused",
    description: "another file, RuntimeDefault (not listed) and unset are refused",
    options: onlyAudit,
    object: pod({
      containers: [container("app", localhost("profiles/other.json")), container("sidecar", runtimeDefault)],
      initContainers: [container("setup")],
    }),
    expect: [
      { container: "app", field: "securityContext.seccompProfile" },
      { container: "sidecar", field: "securityContext.seccompProfile" },
      { container: "setup", field: "securityContext.seccompProfile" },
    ],
  },
  {
    name: "unconfined-listed",
    description: "listing Unconfined admits it",
    options: anyProfile,
    object: pod({ containers: [container("app", unconfined)] }),
    expect: [],
  },
  {
    name: "only-unset-allowed",
    description: "an empty list with allowUnset admits only pods that set no profile",
    options: onlyUnset,
    object: pod({ containers: [container("app"), container("sidecar", runtimeDefault)] }),
    expect: [{ container: "sidecar", field: "securityContext.seccompProfile" }],
  },
  {
    name: "seccomp-image-exempt",
    description: "an exempt image may run unconfined; other containers are still checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "tracing agent" }] },
    object: pod({
      containers: [container("tracer", { image: "registry.example.com/x/tracer:2", ...unconfined }), container("sidecar", unconfined)],
    }),
    expect: [{ container: "sidecar", field: "securityContext.seccompProfile" }],
  },
  {
    name: "seccomp-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ containers: [container("app", unconfined)] }),
    expect: [],
  },
  {
    name: "seccomp-job",
    description: "a Job whose pod template sets no profile (through expansion)",
    object: workload("Job", { containers: [container("app")] }),
    expect: [{ container: "app", field: "securityContext.seccompProfile" }],
  },
  {
    name: "pod-unconfined-overridden",
    description: "checkOverridden false (default): a pod-level Unconfined every container overrides is not what runs, so it is admitted",
    options: baseline,
    object: pod({ securityContext: { seccompProfile: { type: "Unconfined" } }, containers: [container("app", runtimeDefault)] }),
    expect: [],
  },
  {
    name: "pod-unconfined-checked",
    description: "checkOverridden true (PSS): the pod's Unconfined is refused even though every container overrides it",
    options: { ...baseline, checkOverridden: true },
    object: pod({ securityContext: { seccompProfile: { type: "Unconfined" } }, containers: [container("app", runtimeDefault)] }),
    expect: [{ field: "spec.securityContext.seccompProfile" }],
  },
  {
    name: "pod-unconfined-inherited-checked",
    description: "checkOverridden true: a container inheriting the pod's Unconfined is reported once, on the pod; a container's own is its own",
    options: { checkOverridden: true },
    object: pod({
      securityContext: { seccompProfile: { type: "Unconfined" } },
      containers: [container("app"), container("side", unconfined)],
    }),
    expect: [{ field: "spec.securityContext.seccompProfile" }, { container: "side", field: "securityContext.seccompProfile" }],
  },
  {
    name: "pod-runtime-default-checked",
    description: "checkOverridden true: an allowed pod profile inherited by every container is admitted",
    options: { checkOverridden: true },
    object: pod({ securityContext: { seccompProfile: { type: "RuntimeDefault" } }, initContainers: [container("setup")] }),
    expect: [],
  },
  {
    name: "pod-unconfined-checked-workload",
    description: "checkOverridden true on a StatefulSet's pod template (through expansion)",
    options: { ...baseline, checkOverridden: true },
    object: workload("StatefulSet", { securityContext: { seccompProfile: { type: "Unconfined" } }, containers: [container("app", runtimeDefault)] }),
    expect: [{ field: "spec.securityContext.seccompProfile" }],
  },
  // The reason names where the profile was inherited from by its path in the workload
  // (src/policies/workload-messages.test.ts pins these messages under both engines).
  {
    name: "inherited-unconfined-deployment",
    description: "a Deployment's container inheriting the pod template's Unconfined: the reason names spec.template.spec.securityContext",
    object: workload("Deployment", { securityContext: unconfined.securityContext }),
    expect: [{ container: "app", field: "securityContext.seccompProfile" }],
  },
  {
    name: "inherited-unconfined-cronjob",
    description: "a CronJob's container inheriting Unconfined: the reason gives the path through the job template",
    object: workload("CronJob", { securityContext: unconfined.securityContext }),
    expect: [{ container: "app", field: "securityContext.seccompProfile" }],
  },
];
