import { container, pod, workload, type Json, type Sample } from "../sample.ts";

const sc = (securityContext: Json) => ({ securityContext });
const podSc = (securityContext: Json, spec: Json = {}) => pod({ securityContext, ...spec });

// Each option group is checked on its own: the other strategies are RunAsAny.
const any = { rule: "RunAsAny" };
const userRange = { runAsUser: { rule: "MustRunAs", ranges: [{ min: 1000, max: 1999 }] } };
const groupMust = { runAsUser: any, runAsGroup: { rule: "MustRunAs", ranges: [{ min: 1000, max: 1999 }] } };
const groupMay = { runAsUser: any, runAsGroup: { rule: "MayRunAs", ranges: [{ min: 1000, max: 1999 }] } };
const suppMust = { runAsUser: any, supplementalGroups: { rule: "MustRunAs", ranges: [{ min: 2000, max: 2999 }] } };
const suppMay = { runAsUser: any, supplementalGroups: { rule: "MayRunAs", ranges: [{ min: 2000, max: 2999 }] } };
const fsMust = { runAsUser: any, fsGroup: { rule: "MustRunAs", ranges: [{ min: 3000, max: 3000 }] } };
const fsMay = { runAsUser: any, fsGroup: { rule: "MayRunAs", ranges: [{ min: 3000, max: 3999 }] } };

const nonRootField = "securityContext.runAsNonRoot";
const pss = { runAsUser: { requireRunAsNonRoot: true } };
const uidField = "securityContext.runAsUser";
const gidField = "securityContext.runAsGroup";

const defaults: Sample[] = [
  {
    name: "nonroot-pod-level",
    description: "default MustRunAsNonRoot: runAsNonRoot true on the pod covers every container",
    object: podSc({ runAsNonRoot: true }, { initContainers: [container("setup")] }),
    expect: [],
  },
  {
    name: "nonroot-by-uid",
    description: "default MustRunAsNonRoot: a non-zero runAsUser on the container is enough",
    object: pod({ containers: [container("app", sc({ runAsUser: 1000 }))] }),
    expect: [],
  },
  {
    name: "nonroot-by-pod-uid",
    description: "default MustRunAsNonRoot: a non-zero runAsUser inherited from the pod is enough",
    object: podSc({ runAsUser: 1000 }),
    expect: [],
  },
  {
    name: "root-by-default",
    description: "default MustRunAsNonRoot: nothing set, so the image's user (often root) would run",
    object: pod(),
    expect: [{ container: "app", field: nonRootField }],
  },
  {
    name: "root-container-override",
    description: "runAsNonRoot false on the container overrides the pod's true",
    object: podSc({ runAsNonRoot: true }, { containers: [container("app", sc({ runAsNonRoot: false }))] }),
    expect: [{ container: "app", field: nonRootField }],
  },
  {
    name: "root-container-uid-zero",
    description: "an explicit container runAsUser 0 is refused even with runAsNonRoot true",
    object: podSc({ runAsNonRoot: true }, { containers: [container("app", sc({ runAsUser: 0 }))] }),
    expect: [{ container: "app", field: uidField }],
  },
  {
    name: "root-pod-uid-zero",
    description: "an explicit pod runAsUser 0 is refused even though every container overrides it",
    object: podSc({ runAsUser: 0 }, { containers: [container("app", sc({ runAsUser: 1000 }))] }),
    expect: [{ field: "spec.securityContext.runAsUser" }],
  },
  {
    name: "root-pod-uid-zero-inherited",
    description: "pod runAsUser 0 inherited by a container: the pod field and the container are both reported",
    object: podSc({ runAsUser: 0 }),
    expect: [{ field: "spec.securityContext.runAsUser" }, { container: "app", field: nonRootField }],
  },
  {
    name: "root-init-and-ephemeral",
    description: "init and ephemeral containers need a non-root user too",
    object: pod({
      containers: [container("app", sc({ runAsNonRoot: true }))],
      initContainers: [container("setup")],
      ephemeralContainers: [container("debug", sc({ runAsUser: 0 }))],
    }),
    expect: [
      { container: "setup", field: nonRootField },
      { container: "debug", field: nonRootField },
      { container: "debug", field: uidField },
    ],
  },
  {
    name: "root-image-exempt",
    description: "an exempt image may run as root; the other container is still checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "legacy agent" }] },
    object: pod({ containers: [container("agent", { image: "registry.example.com/x/agent:1" }), container("app")] }),
    expect: [{ container: "app", field: nonRootField }],
  },
  {
    name: "root-image-exempt-pod-level",
    description: "when every container is exempt, the pod-level runAsUser 0 is not checked either",
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "legacy agent" }] },
    object: podSc({ runAsUser: 0 }, { containers: [container("agent", { image: "registry.example.com/x/agent:1" })] }),
    expect: [],
  },
  {
    name: "root-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: podSc({ runAsUser: 0 }),
    expect: [],
  },
  {
    name: "root-deployment",
    description: "a Deployment whose pod template runs as root (through expansion)",
    object: workload("Deployment", { containers: [container("app")] }),
    expect: [{ container: "app", field: nonRootField }],
  },
  // The reason names where the value was inherited from by its path in the workload
  // (src/policies/workload-messages.test.ts pins these messages under both engines).
  {
    name: "inherited-nonroot-false-deployment",
    description: "a Deployment's container inheriting runAsNonRoot false: the reason names spec.template.spec.securityContext",
    object: workload("Deployment", { securityContext: { runAsNonRoot: false } }),
    expect: [{ container: "app", field: nonRootField }],
  },
];

const runAsUser: Sample[] = [
  {
    name: "uid-any-root",
    description: "runAsUser RunAsAny: root is allowed",
    options: { runAsUser: any },
    object: podSc({ runAsUser: 0 }),
    expect: [],
  },
  {
    name: "uid-range-pod",
    description: "runAsUser MustRunAs 1000-1999: a uid in range inherited from the pod",
    options: userRange,
    object: podSc({ runAsUser: 1500 }, { initContainers: [container("setup")] }),
    expect: [],
  },
  {
    name: "uid-range-pod-outside",
    description: "runAsUser MustRunAs 1000-1999: an out-of-range pod uid is reported on every container inheriting it",
    options: userRange,
    object: podSc({ runAsUser: 5 }, { initContainers: [container("setup", sc({ runAsUser: 1000 }))] }),
    expect: [{ container: "app", field: uidField }],
  },
  {
    name: "uid-range-unset",
    description: "runAsUser MustRunAs 1000-1999: runAsNonRoot alone is not enough, a uid must be set",
    options: userRange,
    object: podSc({ runAsNonRoot: true }),
    expect: [{ container: "app", field: uidField }],
  },
  {
    name: "uid-range-container-outside",
    description: "runAsUser MustRunAs 1000-1999: a container override outside the range",
    options: userRange,
    object: podSc({ runAsUser: 1500 }, { ephemeralContainers: [container("debug", sc({ runAsUser: 2000 }))] }),
    expect: [{ container: "debug", field: uidField }],
  },
];

const groups: Sample[] = [
  {
    name: "gid-must-pod",
    description: "runAsGroup MustRunAs 1000-1999: a gid in range inherited from the pod",
    options: groupMust,
    object: podSc({ runAsGroup: 1000 }),
    expect: [],
  },
  {
    name: "gid-must-unset",
    description: "runAsGroup MustRunAs: an unset group (the image's, often 0) is refused",
    options: groupMust,
    object: pod({ initContainers: [container("setup", sc({ runAsGroup: 1999 }))] }),
    expect: [{ container: "app", field: gidField }],
  },
  {
    name: "gid-must-container-outside",
    description: "runAsGroup MustRunAs: a container gid outside the range",
    options: groupMust,
    object: podSc({ runAsGroup: 1000 }, { containers: [container("app", sc({ runAsGroup: 0 }))] }),
    expect: [{ container: "app", field: gidField }],
  },
  {
    name: "gid-may-unset",
    description: "runAsGroup MayRunAs: an unset group is allowed",
    options: groupMay,
    object: pod(),
    expect: [],
  },
  {
    name: "gid-may-outside",
    description: "runAsGroup MayRunAs: a pod gid outside the range is refused on the inheriting container",
    options: groupMay,
    object: podSc({ runAsGroup: 0 }),
    expect: [{ container: "app", field: gidField }],
  },
  {
    name: "supp-must-in-range",
    description: "supplementalGroups MustRunAs 2000-2999: every group in range",
    options: suppMust,
    object: podSc({ supplementalGroups: [2000, 2999] }),
    expect: [],
  },
  {
    name: "supp-must-missing",
    description: "supplementalGroups MustRunAs: at least one group is required",
    options: suppMust,
    object: pod(),
    expect: [{ field: "spec.securityContext.supplementalGroups" }],
  },
  {
    name: "supp-must-outside",
    description: "supplementalGroups MustRunAs: a root group among allowed ones",
    options: suppMust,
    object: podSc({ supplementalGroups: [2000, 0] }),
    expect: [{ field: "spec.securityContext.supplementalGroups" }],
  },
  {
    name: "supp-may-missing",
    description: "supplementalGroups MayRunAs: no groups is fine",
    options: suppMay,
    object: pod(),
    expect: [],
  },
  {
    name: "supp-may-outside",
    description: "supplementalGroups MayRunAs: a group outside the range",
    options: suppMay,
    object: podSc({ supplementalGroups: [5] }),
    expect: [{ field: "spec.securityContext.supplementalGroups" }],
  },
  {
    name: "fsgroup-must-set",
    description: "fsGroup MustRunAs 3000: the one allowed id",
    options: fsMust,
    object: podSc({ fsGroup: 3000 }),
    expect: [],
  },
  {
    name: "fsgroup-must-unset",
    description: "fsGroup MustRunAs: an unset fsGroup is refused",
    options: fsMust,
    object: pod(),
    expect: [{ field: "spec.securityContext.fsGroup" }],
  },
  {
    name: "fsgroup-must-statefulset",
    description: "fsGroup MustRunAs: a StatefulSet template with fsGroup 0 (through expansion)",
    options: fsMust,
    object: workload("StatefulSet", { securityContext: { fsGroup: 0 } }),
    expect: [{ field: "spec.securityContext.fsGroup" }],
  },
  {
    name: "fsgroup-may-unset",
    description: "fsGroup MayRunAs: an unset fsGroup is fine",
    options: fsMay,
    object: pod(),
    expect: [],
  },
  {
    name: "fsgroup-may-outside",
    description: "fsGroup MayRunAs 3000-3999: fsGroup 0 (root) is refused",
    options: fsMay,
    object: podSc({ fsGroup: 0 }),
    expect: [{ field: "spec.securityContext.fsGroup" }],
  },
  {
    name: "pss-explicit-false-with-uid",
    description: "requireRunAsNonRoot (PSS): a container's runAsNonRoot: false is refused even with a non-zero runAsUser",
    options: pss,
    object: pod({ containers: [container("app", sc({ runAsNonRoot: false, runAsUser: 1000 }))] }),
    expect: [{ container: "app", field: nonRootField }],
  },
  {
    name: "psp-explicit-false-with-uid",
    description: "requireRunAsNonRoot false (default, PodSecurityPolicy): the non-zero runAsUser proves non-root",
    object: pod({ containers: [container("app", sc({ runAsNonRoot: false, runAsUser: 1000 }))] }),
    expect: [],
  },
  {
    name: "pss-uid-alone-not-enough",
    description: "requireRunAsNonRoot: a non-zero runAsUser without runAsNonRoot is refused",
    options: pss,
    object: podSc({ runAsUser: 1000 }),
    expect: [{ container: "app", field: nonRootField }],
  },
  {
    name: "pss-pod-false-containers-true",
    description: "requireRunAsNonRoot: the pod must not say runAsNonRoot: false, even where every container says true",
    options: pss,
    object: podSc({ runAsNonRoot: false }, { containers: [container("app", sc({ runAsNonRoot: true }))] }),
    expect: [{ field: "spec.securityContext.runAsNonRoot" }],
  },
  {
    name: "pss-pod-true",
    description: "requireRunAsNonRoot: runAsNonRoot: true on the pod covers every container that does not say false",
    options: pss,
    object: podSc({ runAsNonRoot: true }, { initContainers: [container("setup")] }),
    expect: [],
  },
  {
    name: "user-namespace-exempt",
    description: "exemptUserNamespaces (PSS restricted v1.35+): a pod with hostUsers: false may run as uid 0",
    options: { runAsUser: { requireRunAsNonRoot: true, exemptUserNamespaces: true } },
    object: pod({ hostUsers: false, securityContext: { runAsUser: 0 }, containers: [container("app", sc({ runAsUser: 0 }))] }),
    expect: [],
  },
  {
    name: "user-namespace-not-exempt-by-default",
    description: "exemptUserNamespaces false (default): hostUsers: false does not relax MustRunAsNonRoot",
    options: pss,
    object: pod({ hostUsers: false, containers: [container("app", sc({ runAsNonRoot: true, runAsUser: 0 }))] }),
    expect: [{ container: "app", field: uidField }],
  },
  {
    name: "user-namespace-exempt-needs-host-users-false",
    description: "exemptUserNamespaces: a pod that shares the node's user namespace (hostUsers unset) is still checked",
    options: { runAsUser: { exemptUserNamespaces: true } },
    object: podSc({ runAsUser: 0 }),
    expect: [{ field: "spec.securityContext.runAsUser" }, { container: "app", field: nonRootField }],
  },
  {
    name: "pss-pod-false-inherited",
    description: "requireRunAsNonRoot: the pod's runAsNonRoot: false is reported, and so is every container inheriting it",
    options: pss,
    object: podSc({ runAsNonRoot: false, runAsUser: 1000 }),
    expect: [{ field: "spec.securityContext.runAsNonRoot" }, { container: "app", field: nonRootField }],
  },
  {
    name: "uid-ranges-several",
    description: "runAsUser MustRunAs over two ranges, one a single id: a uid between them is refused",
    options: {
      runAsUser: {
        rule: "MustRunAs",
        ranges: [
          { min: 2000, max: 2999 },
          { min: 1000, max: 1000 },
        ],
      },
    },
    object: podSc({ runAsUser: 1000 }, { containers: [container("app"), container("sidecar", sc({ runAsUser: 1500 }))] }),
    expect: [{ container: "sidecar", field: uidField }],
  },
  {
    name: "supp-must-empty",
    description: "supplementalGroups MustRunAs: an empty list is no group",
    options: suppMust,
    object: podSc({ supplementalGroups: [] }),
    expect: [{ field: "spec.securityContext.supplementalGroups" }],
  },
  {
    name: "supp-may-several-outside",
    description: "supplementalGroups MayRunAs: every group outside the range is named",
    options: suppMay,
    object: podSc({ supplementalGroups: [0, 2500, 5] }),
    expect: [{ field: "spec.securityContext.supplementalGroups" }],
  },
  {
    name: "pss-explicit-false-workload",
    description: "requireRunAsNonRoot on a ReplicaSet's pod template (through expansion)",
    options: pss,
    object: workload("ReplicaSet", { containers: [container("app", sc({ runAsNonRoot: false, runAsUser: 1000 }))] }),
    expect: [{ container: "app", field: nonRootField }],
  },
  {
    name: "inherited-gid-outside-cronjob",
    description: "runAsGroup MayRunAs: a CronJob's container inheriting gid 0; the reason gives the path through the job template",
    options: groupMay,
    object: workload("CronJob", { securityContext: { runAsGroup: 0 } }),
    expect: [{ container: "app", field: gidField }],
  },
];

export const samples: Sample[] = [...defaults, ...runAsUser, ...groups];
