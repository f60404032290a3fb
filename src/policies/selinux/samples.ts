import { container, pod, workload, type Sample } from "../sample.ts";

const se = (seLinuxOptions: object) => ({ securityContext: { seLinuxOptions } });
/** Pod Security Standards baseline: type unset or one of four, user and role unset, any level. */
const baseline = {
  allowed: [{ level: "*" }, ...["container_t", "container_init_t", "container_kvm_t", "container_engine_t"].map((type) => ({ type, level: "*" }))],
};
const exact = { allowed: [{ user: "system_u", role: "system_r", type: "container_t", level: "s0:c1,c2" }] };
const anyType = { allowed: [{ type: "*" }] };

export const samples: Sample[] = [
  { name: "no-selinux-options", description: "a plain pod with the default options", object: pod(), expect: [] },
  {
    name: "empty-selinux-options",
    description: "seLinuxOptions that set nothing ({} or empty strings) are allowed even with an empty list",
    object: pod({
      securityContext: { seLinuxOptions: {} },
      containers: [container("app", se({ type: "", level: "" }))],
    }),
    expect: [],
  },
  {
    name: "default-refuses-any-field",
    description: "with the default (empty) list, setting any field is refused, on the pod and on containers",
    object: pod({
      securityContext: { seLinuxOptions: { level: "s0:c123,c456" } },
      containers: [container("app", se({ type: "container_t" }))],
    }),
    expect: [{ field: "spec.securityContext.seLinuxOptions" }, { container: "app", field: "securityContext.seLinuxOptions" }],
  },
  {
    name: "baseline-allowed",
    description: "baseline: any level, and the container types, with user and role unset",
    options: baseline,
    object: pod({
      securityContext: { seLinuxOptions: { level: "s0:c123,c456" } },
      containers: [container("app", se({ type: "container_t" }))],
      initContainers: [container("setup", se({ type: "container_init_t", level: "s0" }))],
      ephemeralContainers: [container("debug", se({ type: "container_engine_t", user: "" }))],
    }),
    expect: [],
  },
  {
    name: "baseline-refused",
    description: "baseline: other types, and any user or role, are refused in every container kind and on the pod",
    options: baseline,
    object: pod({
      securityContext: { seLinuxOptions: { type: "unconfined_t" } },
      containers: [container("app", se({ type: "spc_t" })), container("ok", se({ type: "container_kvm_t" }))],
      initContainers: [container("setup", se({ user: "system_u", type: "container_t" }))],
      ephemeralContainers: [container("debug", se({ role: "sysadm_r", level: "s0" }))],
    }),
    expect: [
      { field: "spec.securityContext.seLinuxOptions" },
      { container: "app", field: "securityContext.seLinuxOptions" },
      { container: "setup", field: "securityContext.seLinuxOptions" },
      { container: "debug", field: "securityContext.seLinuxOptions" },
    ],
  },
  {
    name: "exact-entry-matched",
    description: "an entry with every field set admits exactly that combination",
    options: exact,
    object: pod({
      containers: [container("app", se({ user: "system_u", role: "system_r", type: "container_t", level: "s0:c1,c2" }))],
    }),
    expect: [],
  },
  {
    name: "exact-entry-not-matched",
    description: "a different level, or a field left unset that the entry names, is refused",
    options: exact,
    object: pod({
      containers: [
        container("app", se({ user: "system_u", role: "system_r", type: "container_t", level: "s0:c1,c3" })),
        container("sidecar", se({ role: "system_r", type: "container_t", level: "s0:c1,c2" })),
      ],
    }),
    expect: [
      { container: "app", field: "securityContext.seLinuxOptions" },
      { container: "sidecar", field: "securityContext.seLinuxOptions" },
    ],
  },
  {
    name: "wildcard-type-allowed",
    description: "* admits any type while the omitted fields must stay unset",
    options: anyType,
    object: pod({ containers: [container("app", se({ type: "spc_t" }))] }),
    expect: [],
  },
  {
    name: "wildcard-type-level-refused",
    description: "* for type does not admit a level, which the entry omits",
    options: anyType,
    object: pod({ containers: [container("app", se({ type: "container_t", level: "s0" }))] }),
    expect: [{ container: "app", field: "securityContext.seLinuxOptions" }],
  },
  {
    name: "selinux-image-exempt",
    description: "an exempt image may set any options; other containers are still checked",
    options: baseline,
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "node agent" }] },
    object: pod({
      containers: [container("agent", { image: "registry.example.com/x/agent:3", ...se({ type: "spc_t" }) }), container("sidecar", se({ type: "spc_t" }))],
    }),
    expect: [{ container: "sidecar", field: "securityContext.seLinuxOptions" }],
  },
  {
    name: "selinux-all-images-exempt",
    description: "when every container image is exempt, the pod-level options are not checked either",
    options: baseline,
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "node agent" }] },
    object: pod({
      securityContext: { seLinuxOptions: { type: "spc_t" } },
      containers: [container("agent", { image: "registry.example.com/x/agent:3" })],
    }),
    expect: [],
  },
  {
    name: "selinux-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ securityContext: { seLinuxOptions: { type: "spc_t" } } }),
    expect: [],
  },
  {
    name: "selinux-statefulset",
    description: "a StatefulSet whose pod template sets spc_t on the pod and a user on a container (through expansion)",
    options: baseline,
    object: workload("StatefulSet", {
      securityContext: { seLinuxOptions: { type: "spc_t" } },
      containers: [container("app", se({ user: "system_u" }))],
    }),
    expect: [{ field: "spec.securityContext.seLinuxOptions" }, { container: "app", field: "securityContext.seLinuxOptions" }],
  },
];
