import { container, pod, workload, type Json, type Sample } from "../sample.ts";

const profile = (appArmorProfile: object) => ({ securityContext: { appArmorProfile } });
const runtimeDefault = profile({ type: "RuntimeDefault" });
const unconfined = profile({ type: "Unconfined" });
const localhost = (localhostProfile: string) => profile({ type: "Localhost", localhostProfile });
const annotation = (name: string, value: string) => ({
  annotations: { [`container.apparmor.security.beta.kubernetes.io/${name}`]: value },
});
const onlyMine = { allowed: ["localhost/my-profile"] };
const permissive = { allowed: ["unconfined", "runtime/default"] };

/** A DaemonSet whose pod template carries AppArmor annotations. */
function daemonSetWithAnnotations(spec: Json, annotations: Record<string, string>): Json {
  const ds = workload("DaemonSet", spec);
  const template = (ds.spec as { template: { metadata: Json } }).template;
  template.metadata = { ...template.metadata, annotations };
  return ds;
}

export const samples: Sample[] = [
  { name: "no-apparmor", description: "unset runs as runtime/default, allowed by default", object: pod(), expect: [] },
  {
    name: "default-allowed-profiles",
    description: "RuntimeDefault and any Localhost profile, by field or annotation, pass the defaults",
    object: pod(
      {
        containers: [container("app", runtimeDefault), container("sidecar", localhost("k8s-apparmor-example"))],
        initContainers: [container("setup")],
      },
      annotation("setup", "localhost/other-profile"),
    ),
    expect: [],
  },
  {
    name: "default-refuses-unconfined",
    description: "unconfined is refused whether set on the container, by annotation, or inherited from the pod",
    object: pod(
      {
        securityContext: { appArmorProfile: { type: "Unconfined" } },
        containers: [container("app", unconfined), container("sidecar"), container("ok", runtimeDefault)],
        initContainers: [container("setup")],
        ephemeralContainers: [container("debug", unconfined)],
      },
      annotation("sidecar", "unconfined"),
    ),
    expect: [
      { container: "app", field: "securityContext.appArmorProfile" },
      { container: "sidecar", field: "container.apparmor.security.beta.kubernetes.io/sidecar" },
      { container: "setup", field: "securityContext.appArmorProfile" },
      { container: "debug", field: "securityContext.appArmorProfile" },
    ],
  },
  {
    name: "precedence-field-then-annotation",
    description: "the container field beats its annotation, and the annotation beats the pod field",
    object: pod(
      {
        securityContext: { appArmorProfile: { type: "Unconfined" } },
        containers: [container("app", runtimeDefault), container("sidecar")],
      },
      {
        annotations: {
          "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
          "container.apparmor.security.beta.kubernetes.io/sidecar": "runtime/default",
        },
      },
    ),
    expect: [],
  },
  {
    name: "only-named-localhost-allowed",
    description: "allowed [localhost/my-profile] admits that profile only",
    options: onlyMine,
    object: pod({ containers: [container("app", localhost("my-profile")), container("sidecar")] }, annotation("sidecar", "localhost/my-profile")),
    expect: [],
  },
  {
    name: "only-named-localhost-refused",
    description: "without runtime/default in the list, unset is refused; so is another localhost profile",
    options: onlyMine,
    object: pod({
      containers: [container("app"), container("sidecar", localhost("other-profile"))],
      initContainers: [container("setup", runtimeDefault)],
    }),
    expect: [
      { container: "app", field: "securityContext.appArmorProfile" },
      { container: "sidecar", field: "securityContext.appArmorProfile" },
      { container: "setup", field: "securityContext.appArmorProfile" },
    ],
  },
  {
    name: "unconfined-allowed",
    description: "listing unconfined admits it",
    options: permissive,
    object: pod({ securityContext: { appArmorProfile: { type: "Unconfined" } }, containers: [container("app")] }),
    expect: [],
  },
  {
    name: "localhost-not-listed",
    description: "a list without localhost entries refuses every localhost profile",
    options: permissive,
    object: pod({ containers: [container("app", localhost("k8s-apparmor-example"))] }),
    expect: [{ container: "app", field: "securityContext.appArmorProfile" }],
  },
  {
    name: "apparmor-image-exempt",
    description: "an exempt image may run unconfined; other containers are still checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "node debugger" }] },
    object: pod({
      containers: [container("agent", { image: "registry.example.com/x/agent:1", ...unconfined }), container("sidecar", unconfined)],
    }),
    expect: [{ container: "sidecar", field: "securityContext.appArmorProfile" }],
  },
  {
    name: "apparmor-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ containers: [container("app", unconfined)] }),
    expect: [],
  },
  {
    name: "apparmor-daemonset",
    description: "a DaemonSet whose pod template annotates a container unconfined (through expansion)",
    object: daemonSetWithAnnotations(
      { containers: [container("app"), container("ok")] },
      { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" },
    ),
    expect: [{ container: "app", field: "container.apparmor.security.beta.kubernetes.io/app" }],
  },
  {
    name: "pod-field-overridden-checked",
    description: "checkOverridden true: the pod's Unconfined is refused though every container sets its own profile",
    options: { checkOverridden: true },
    object: pod({
      securityContext: { appArmorProfile: { type: "Unconfined" } },
      containers: [container("app", runtimeDefault)],
      initContainers: [container("setup", unconfined)],
    }),
    expect: [{ field: "spec.securityContext.appArmorProfile" }, { container: "setup", field: "securityContext.appArmorProfile" }],
  },
  {
    name: "nothing-set-checked",
    description: "checkOverridden true: a container that sets nothing runs under runtime/default, refused only when that is not allowed",
    options: { allowed: ["localhost/my-profile"], checkOverridden: true },
    object: pod({ containers: [container("app"), container("side", localhost("my-profile"))] }),
    expect: [{ container: "app", field: "securityContext.appArmorProfile" }],
  },
  {
    name: "annotations-checked",
    description:
      "checkOverridden: a container's annotation is checked though its field overrides it, and so is one naming no container; an empty one counts as unset",
    options: { checkOverridden: true },
    object: pod(
      { containers: [container("app", runtimeDefault), container("sidecar")] },
      {
        annotations: {
          "container.apparmor.security.beta.kubernetes.io/app": "unconfined",
          "container.apparmor.security.beta.kubernetes.io/sidecar": "",
          "container.apparmor.security.beta.kubernetes.io/ghost": "unconfined",
        },
      },
    ),
    expect: [
      { container: "app", field: "container.apparmor.security.beta.kubernetes.io/app" },
      { field: "container.apparmor.security.beta.kubernetes.io/ghost" },
    ],
  },
  {
    name: "empty-annotation-unset-checked",
    description: "checkOverridden: an empty annotation counts as unset, so the container runs under runtime/default, here not allowed",
    options: { allowed: ["localhost/my-profile"], checkOverridden: true },
    object: pod({ containers: [container("app")] }, annotation("app", "")),
    expect: [{ container: "app", field: "securityContext.appArmorProfile" }],
  },
  {
    name: "empty-annotation-effective",
    description: "without checkOverridden an empty annotation still names the profile, one no list allows",
    object: pod({ containers: [container("app")] }, annotation("app", "")),
    expect: [{ container: "app", field: "container.apparmor.security.beta.kubernetes.io/app" }],
  },
  {
    name: "pod-field-overridden",
    description: "checkOverridden false (default): a pod-level Unconfined every container overrides is not what runs, so it is admitted",
    object: pod({ securityContext: { appArmorProfile: { type: "Unconfined" } }, containers: [container("app", runtimeDefault)] }),
    expect: [],
  },
  {
    name: "pod-field-checked-workload",
    description: "checkOverridden true on a Deployment's pod template: the pod's Unconfined is refused (through expansion)",
    options: { checkOverridden: true },
    object: workload("Deployment", { securityContext: { appArmorProfile: { type: "Unconfined" } }, containers: [container("app", runtimeDefault)] }),
    expect: [{ field: "spec.securityContext.appArmorProfile" }],
  },
  {
    name: "inherited-unconfined-cronjob",
    description: "a CronJob's container inheriting unconfined: the reason names the pod template's field by its path in the CronJob",
    object: workload("CronJob", { securityContext: { appArmorProfile: { type: "Unconfined" } } }),
    expect: [{ container: "app", field: "securityContext.appArmorProfile" }],
  },
  {
    name: "checked-everywhere-allowed",
    description: "checkOverridden true: the pod's field, a container's field and its annotation all allowed is admitted",
    options: { checkOverridden: true },
    object: pod(
      { securityContext: runtimeDefault.securityContext, containers: [container("app", localhost("my-profile")), container("side")] },
      annotation("side", "runtime/default"),
    ),
    expect: [],
  },
];
