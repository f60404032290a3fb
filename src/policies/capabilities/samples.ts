import { container, pod, workload, type Sample } from "../sample.ts";

const caps = (c: { add?: string[]; drop?: string[] }) => ({ securityContext: { capabilities: c } });
const web = { allowedAdd: ["NET_BIND_SERVICE", "CHOWN"] };
const restricted = { allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: ["ALL"] };
const dropTwo = { requiredDrop: ["SYS_ADMIN", "cap_net_raw"] };

export const samples: Sample[] = [
  {
    name: "windows-pod-required-drop",
    description: "a Windows pod cannot set capabilities, so requiredDrop does not apply to it",
    options: { requiredDrop: ["ALL"] },
    object: pod({ os: { name: "windows" } }),
    expect: [],
  },
  {
    name: "linux-pod-required-drop",
    description: "the same pod without os.name windows must drop ALL",
    options: { requiredDrop: ["ALL"] },
    object: pod(),
    expect: [{ container: "app", field: "securityContext.capabilities.drop" }],
  },
  { name: "no-capabilities", description: "a plain pod with the default options", object: pod(), expect: [] },
  {
    name: "drop-only",
    description: "dropping capabilities is always allowed",
    object: pod({ containers: [container("app", caps({ drop: ["ALL"] }))] }),
    expect: [],
  },
  {
    name: "add-refused-by-default",
    description: "the default (empty) allowedAdd admits no additions",
    object: pod({ containers: [container("app", caps({ add: ["NET_BIND_SERVICE"] }))] }),
    expect: [{ container: "app", field: "securityContext.capabilities.add" }],
  },
  {
    name: "add-allowed-normalised",
    description: "CAP_ prefix and lower case in the pod are normalised before matching allowedAdd",
    options: web,
    object: pod({ containers: [container("app", caps({ add: ["CAP_NET_BIND_SERVICE", "chown"] }))] }),
    expect: [],
  },
  {
    name: "add-outside-allowed",
    description: "each capability outside allowedAdd is refused, in every container kind",
    options: web,
    object: pod({
      containers: [container("app", caps({ add: ["NET_BIND_SERVICE", "NET_ADMIN", "SYS_ADMIN"] }))],
      initContainers: [container("setup", caps({ add: ["cap_net_raw"] }))],
      ephemeralContainers: [container("debug", caps({ add: ["SYS_PTRACE"] }))],
    }),
    expect: [
      { container: "app", field: "securityContext.capabilities.add" },
      { container: "app", field: "securityContext.capabilities.add" },
      { container: "setup", field: "securityContext.capabilities.add" },
      { container: "debug", field: "securityContext.capabilities.add" },
    ],
  },
  {
    name: "add-all-needs-all",
    description: "adding ALL is refused unless allowedAdd is [ALL]",
    options: web,
    object: pod({ containers: [container("app", caps({ add: ["ALL"] }))] }),
    expect: [{ container: "app", field: "securityContext.capabilities.add" }],
  },
  {
    name: "allowed-add-all",
    description: "allowedAdd [ALL] admits any addition, including ALL",
    options: { allowedAdd: ["ALL", "NET_ADMIN"] },
    object: pod({ containers: [container("app", caps({ add: ["ALL", "SYS_ADMIN"] }))] }),
    expect: [],
  },
  {
    name: "restricted-drop-all-add-bind",
    description: "drop ALL plus adding NET_BIND_SERVICE passes the restricted settings",
    options: restricted,
    object: pod({
      containers: [container("app", caps({ drop: ["all"], add: ["NET_BIND_SERVICE"] }))],
      initContainers: [container("setup", caps({ drop: ["CAP_ALL"] }))],
    }),
    expect: [],
  },
  {
    name: "restricted-missing-drop",
    description: "requiredDrop [ALL]: no drop list, or dropping single capabilities, is not enough",
    options: restricted,
    object: pod({
      containers: [container("app"), container("sidecar", caps({ drop: ["NET_RAW", "SYS_ADMIN"] }))],
      ephemeralContainers: [container("debug", caps({ drop: ["ALL"], add: ["SYS_PTRACE"] }))],
    }),
    expect: [
      { container: "app", field: "securityContext.capabilities.drop" },
      { container: "sidecar", field: "securityContext.capabilities.drop" },
      { container: "debug", field: "securityContext.capabilities.add" },
    ],
  },
  {
    name: "required-drop-listed",
    description: "each required capability dropped (in any spelling), or drop ALL, is admitted",
    options: dropTwo,
    object: pod({
      containers: [container("app", caps({ drop: ["CAP_SYS_ADMIN", "net_raw"] }))],
      initContainers: [container("setup", caps({ drop: ["ALL"] }))],
    }),
    expect: [],
  },
  {
    name: "required-drop-missing-one",
    description: "one finding per container, naming every required capability it does not drop",
    options: dropTwo,
    object: pod({
      containers: [container("app", caps({ drop: ["NET_RAW"] }))],
      initContainers: [container("setup")],
    }),
    expect: [
      { container: "app", field: "securityContext.capabilities.drop" },
      { container: "setup", field: "securityContext.capabilities.drop" },
    ],
  },
  {
    name: "capabilities-image-exempt",
    description: "an exempt image may add and keep anything; other containers are still checked",
    options: restricted,
    exemptions: { images: [{ pattern: "registry.example.com/x/*", reason: "CNI agent" }] },
    object: pod({
      containers: [
        container("cni", { image: "registry.example.com/x/cni:1.0", ...caps({ add: ["NET_ADMIN"] }) }),
        container("sidecar", caps({ drop: ["ALL"], add: ["NET_ADMIN"] })),
      ],
    }),
    expect: [{ container: "sidecar", field: "securityContext.capabilities.add" }],
  },
  {
    name: "capabilities-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    options: restricted,
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ containers: [container("app", caps({ add: ["SYS_ADMIN"] }))] }),
    expect: [],
  },
  {
    name: "capabilities-cronjob",
    description: "a CronJob whose pod template adds SYS_ADMIN and drops nothing (through expansion)",
    options: restricted,
    object: workload("CronJob", { containers: [container("app", caps({ add: ["SYS_ADMIN"] }))] }),
    expect: [
      { container: "app", field: "securityContext.capabilities.add" },
      { container: "app", field: "securityContext.capabilities.drop" },
    ],
  },
  {
    name: "exact-names-refuse-spellings",
    description: "names: exact compares as written, as PSS does: chown and CAP_CHOWN are not CHOWN, all is not ALL",
    options: { allowedAdd: ["CHOWN"], requiredDrop: ["ALL"], names: "exact" },
    object: pod({
      containers: [container("app", caps({ add: ["chown", "CAP_CHOWN"], drop: ["all"] }))],
      initContainers: [container("setup", caps({ add: ["CHOWN"], drop: ["ALL"] }))],
    }),
    expect: [
      { container: "app", field: "securityContext.capabilities.add" },
      { container: "app", field: "securityContext.capabilities.add" },
      { container: "app", field: "securityContext.capabilities.drop" },
    ],
  },
  {
    name: "normalised-names-accept-spellings",
    description: "names: normalised (the default) reads chown, CAP_CHOWN and all as the runtimes do",
    options: { allowedAdd: ["CHOWN"], requiredDrop: ["ALL"], names: "normalised" },
    object: pod({ containers: [container("app", caps({ add: ["chown", "CAP_CHOWN"], drop: ["all"] }))] }),
    expect: [],
  },
  {
    name: "exact-names-workload",
    description: "a Deployment whose pod template adds cap_net_raw under exact names (through expansion)",
    options: { allowedAdd: ["NET_RAW"], names: "exact" },
    object: workload("Deployment", { containers: [container("app", caps({ add: ["cap_net_raw"] }))] }),
    expect: [{ container: "app", field: "securityContext.capabilities.add" }],
  },
  {
    name: "exact-names-accept-as-written",
    description: "names: exact admits the names spelt as the lists spell them (test/cel/option-coverage.test.ts)",
    options: { allowedAdd: ["CHOWN"], requiredDrop: ["ALL"], names: "exact" },
    object: pod({ containers: [container("app", caps({ add: ["CHOWN"], drop: ["ALL"] }))] }),
    expect: [],
  },
];
