// fast-check generator of boundary pods for the differential suite: a pod that complies with
// restricted (or with baseline only), then one to four mutations, each setting one field the Pod
// Security Standards read to a value on or just past a boundary (unset vs false, exact vs
// normalised capability names, pod vs container level, user namespaces, Windows …), at pod level
// or in any container of any kind. A few pods are wrapped in a workload so Gatekeeper's
// expansion is compared too.
//
// Pods stay valid where the API server would refuse them before any admission plugin runs
// (neither PSA nor Gatekeeper ever sees those): ephemeral containers carry no ports, probes or
// hooks; Windows pods carry no Linux-only fields; hostUsers: false goes without host
// namespaces; workloads' pod templates have no ephemeral containers.
import fc from "fast-check";

type Json = any;
type Mutation = (pod: Json) => void;

const KINDS = ["containers", "initContainers", "ephemeralContainers"] as const;
const UNSET = Symbol("unset");
const opt = <T>(...values: T[]) => fc.constantFrom<T | typeof UNSET>(...values, UNSET);

const CAPS_ADD = [
  "AUDIT_WRITE",
  "CHOWN",
  "KILL",
  "NET_BIND_SERVICE",
  "SYS_CHROOT",
  "SETPCAP",
  "NET_RAW",
  "SYS_ADMIN",
  "ALL",
  "all",
  "chown",
  "CAP_CHOWN",
  "net_bind_service",
  "CAP_NET_BIND_SERVICE",
  "cap_kill",
];
const CAPS_DROP = ["ALL", "all", "CAP_ALL", "NET_RAW", "CHOWN", "cap_all"];
const SECCOMP = [{ type: "RuntimeDefault" }, { type: "Localhost", localhostProfile: "profiles/a.json" }, { type: "Unconfined" }];
const APPARMOR = [{ type: "RuntimeDefault" }, { type: "Localhost", localhostProfile: "k8s-a" }, { type: "Unconfined" }];
const APPARMOR_ANNOTATION = ["runtime/default", "localhost/k8s-a", "unconfined"];
const SELINUX_TYPES = ["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t", "spc_t", "unconfined_t"];
const SYSCTLS = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
  "net/ipv4/tcp_syncookies",
  "kernel.msgmax",
  "net.core.somaxconn",
  "net.ipv4.ip_forward",
];
const VOLUMES: Record<string, unknown> = {
  configMap: { name: "cm" },
  csi: { driver: "csi.example.com" },
  downwardAPI: { items: [] },
  emptyDir: {},
  ephemeral: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } },
  persistentVolumeClaim: { claimName: "data" },
  projected: { sources: [] },
  secret: { secretName: "s" },
  image: { reference: "registry.example/data:1" },
  hostPath: { path: "/var/log" },
  nfs: { server: "nfs", path: "/" },
  gitRepo: { repository: "https://example.com/r.git" },
  flexVolume: { driver: "example/flex" },
  iscsi: { targetPortal: "t", iqn: "i", lun: 0 },
  awsElasticBlockStore: { volumeID: "v" },
  cephfs: { monitors: ["m"] },
  azureFile: { secretName: "s", shareName: "x" },
};
const HOSTS = ["", "127.0.0.1", "169.254.169.254", "metadata.internal"];

/** Sets obj[path] to value, creating objects on the way; UNSET deletes it. */
function put(obj: Json, path: readonly string[], value: unknown) {
  let o = obj;
  for (const k of path.slice(0, -1)) o = o[k] ??= {};
  const last = path[path.length - 1]!;
  if (value === UNSET) delete o[last];
  else o[last] = structuredClone(value);
}

const podField = (path: string[], values: fc.Arbitrary<unknown>): fc.Arbitrary<Mutation> => values.map((v) => (pod: Json) => put(pod, ["spec", ...path], v));

/** A mutation of one container: which one is picked when applied (kind first, then index). */
const containerField = (path: string[], values: fc.Arbitrary<unknown>, probes = false): fc.Arbitrary<Mutation> =>
  fc.tuple(fc.nat(), fc.nat(), values).map(([k, i, v]) => (pod: Json) => {
    const kinds = KINDS.filter((kind) => pod.spec[kind]?.length && !(probes && kind === "ephemeralContainers"));
    if (kinds.length === 0) return;
    const list = pod.spec[kinds[k % kinds.length]!];
    put(list[i % list.length], path, v);
  });

const capList = (caps: string[]) => fc.subarray(caps, { minLength: 1, maxLength: 3 });

const mutations: fc.Arbitrary<Mutation>[] = [
  // pod level
  podField(["hostNetwork"], fc.boolean()),
  podField(["hostPID"], fc.boolean()),
  podField(["hostIPC"], fc.boolean()),
  podField(["hostUsers"], opt(true, false)),
  podField(["os"], opt({ name: "linux" }, { name: "windows" })),
  podField(["securityContext", "runAsNonRoot"], opt(true, false)),
  podField(["securityContext", "runAsUser"], opt(0, 1000)),
  podField(["securityContext", "seccompProfile"], opt(...SECCOMP)),
  podField(["securityContext", "appArmorProfile"], opt(...APPARMOR)),
  podField(["securityContext", "seLinuxOptions"], selinux()),
  podField(
    ["securityContext", "sysctls"],
    fc.subarray(SYSCTLS, { minLength: 1, maxLength: 2 }).map((ns) => ns.map((name) => ({ name, value: "1" }))),
  ),
  podField(["securityContext", "windowsOptions", "hostProcess"], opt(true, false)),
  fc.constantFrom(...Object.keys(VOLUMES), "bare").map((type) => (pod: Json) => {
    const name = `v${pod.spec.volumes?.length ?? 0}`;
    (pod.spec.volumes ??= []).push(type === "bare" ? { name } : { name, [type]: VOLUMES[type] });
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...APPARMOR_ANNOTATION)).map(([i, value]) => (pod: Json) => {
    const names = KINDS.flatMap((k) => (pod.spec[k] ?? []).map((c: Json) => c.name));
    put(pod, ["metadata", "annotations", `container.apparmor.security.beta.kubernetes.io/${names[i % names.length]}`], value);
  }),
  fc
    .constantFrom("unconfined", "runtime/default")
    .map((value) => (pod: Json) => put(pod, ["metadata", "annotations", "seccomp.security.alpha.kubernetes.io/pod"], value)),
  // container level
  containerField(["securityContext"], fc.constant(UNSET)),
  containerField(["securityContext", "privileged"], opt(true, false)),
  containerField(["securityContext", "allowPrivilegeEscalation"], opt(true, false)),
  containerField(["securityContext", "capabilities"], fc.constant(UNSET)),
  containerField(["securityContext", "capabilities", "add"], capList(CAPS_ADD)),
  containerField(["securityContext", "capabilities", "drop"], fc.oneof(capList(CAPS_DROP), fc.constant([]))),
  containerField(["securityContext", "runAsNonRoot"], opt(true, false)),
  containerField(["securityContext", "runAsUser"], opt(0, 1000)),
  containerField(["securityContext", "seccompProfile"], opt(...SECCOMP)),
  containerField(["securityContext", "appArmorProfile"], opt(...APPARMOR)),
  containerField(["securityContext", "seLinuxOptions"], selinux()),
  containerField(["securityContext", "procMount"], opt("Default", "Unmasked")),
  containerField(["securityContext", "windowsOptions", "hostProcess"], opt(true, false)),
  containerField(
    ["ports"],
    fc.constantFrom(0, 8080, 9090).map((hostPort) => [{ containerPort: 8080, ...(hostPort ? { hostPort } : {}) }]),
    true,
  ),
  containerField(["livenessProbe"], probe(), true),
  containerField(["readinessProbe"], probe(), true),
  containerField(["startupProbe"], probe(), true),
  containerField(
    ["lifecycle"],
    fc.tuple(fc.constantFrom("postStart", "preStop"), handler()).map(([hook, h]) => ({ [hook]: h })),
    true,
  ),
];

function selinux() {
  return fc.oneof(
    fc.constant(UNSET),
    fc.record(
      { type: fc.constantFrom(...SELINUX_TYPES), user: fc.constantFrom("", "system_u"), role: fc.constantFrom("", "system_r"), level: fc.constant("s0:c1,c2") },
      { requiredKeys: [] },
    ),
  );
}

function handler() {
  return fc.oneof(
    fc.constantFrom(...HOSTS).map((host) => ({ httpGet: { port: 8080, ...(host === "" ? {} : { host }) } })),
    fc.constantFrom(...HOSTS).map((host) => ({ tcpSocket: { port: 8080, host } })),
  );
}

function probe() {
  return fc.oneof(handler(), fc.constant({ grpc: { port: 8080 } }), fc.constant(UNSET));
}

/** The base a pod starts from: restricted at pod level, restricted per container, or baseline only. */
type Style = "pod" | "container" | "baseline";

function container(name: string, style: Style): Json {
  const sc: Json = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
  if (style === "container") Object.assign(sc, { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
  return { name, image: "registry.example/app:1", ...(style === "baseline" ? {} : { securityContext: sc }) };
}

function basePod(style: Style, counts: [number, number, number]): Json {
  const spec: Json = {};
  const prefix = { containers: "app", initContainers: "init", ephemeralContainers: "debug" } as const;
  KINDS.forEach((kind, k) => {
    if (counts[k]! > 0) spec[kind] = Array.from({ length: counts[k]! }, (_, i) => container(`${prefix[kind]}${i}`, style));
  });
  if (style === "pod") spec.securityContext = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
  return { apiVersion: "v1", kind: "Pod", metadata: {}, spec };
}

const LINUX_ONLY_POD = ["seLinuxOptions", "seccompProfile", "appArmorProfile", "sysctls", "runAsUser"];
const LINUX_ONLY_CONTAINER = [
  "seLinuxOptions",
  "seccompProfile",
  "appArmorProfile",
  "capabilities",
  "privileged",
  "allowPrivilegeEscalation",
  "procMount",
  "runAsUser",
];

/** Drops what the API server's validation would refuse (see the header). */
function valid(pod: Json): Json {
  const spec = pod.spec;
  for (const c of spec.ephemeralContainers ?? []) for (const k of ["ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle"]) delete c[k];
  if (spec.os?.name === "windows") {
    delete spec.hostUsers;
    for (const k of LINUX_ONLY_POD) delete spec.securityContext?.[k];
    for (const kind of KINDS) for (const c of spec[kind] ?? []) for (const k of LINUX_ONLY_CONTAINER) delete c.securityContext?.[k];
    for (const k of Object.keys(pod.metadata.annotations ?? {})) if (k.includes("apparmor")) delete pod.metadata.annotations[k];
  }
  if (spec.os?.name === "linux") {
    delete spec.securityContext?.windowsOptions;
    for (const kind of KINDS) for (const c of spec[kind] ?? []) delete c.securityContext?.windowsOptions;
  }
  if (spec.hostUsers === false) for (const k of ["hostNetwork", "hostPID", "hostIPC"]) delete spec[k];
  return pod;
}

const WORKLOADS = {
  Deployment: "apps/v1",
  StatefulSet: "apps/v1",
  DaemonSet: "apps/v1",
  ReplicaSet: "apps/v1",
  Job: "batch/v1",
  CronJob: "batch/v1",
  ReplicationController: "v1",
} as const;

function wrap(pod: Json, kind: keyof typeof WORKLOADS | "Pod"): Json {
  if (kind === "Pod") return pod;
  const spec = { ...pod.spec };
  delete spec.ephemeralContainers;
  const template = { metadata: { labels: { app: "x" }, ...pod.metadata }, spec };
  const selector = kind === "ReplicationController" ? { app: "x" } : { matchLabels: { app: "x" } };
  const body = kind === "CronJob" ? { schedule: "@hourly", jobTemplate: { spec: { template } } } : kind === "Job" ? { template } : { selector, template };
  return { apiVersion: WORKLOADS[kind], kind, metadata: {}, spec: body };
}

export const boundaryObject: fc.Arbitrary<Json> = fc
  .record({
    style: fc.constantFrom<Style>("pod", "pod", "container", "baseline"),
    counts: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 1 })),
    mutations: fc.array(fc.oneof(...mutations), { minLength: 0, maxLength: 4 }),
    kind: fc.oneof(
      { weight: 6, arbitrary: fc.constant("Pod" as const) },
      { weight: 1, arbitrary: fc.constantFrom(...(Object.keys(WORKLOADS) as (keyof typeof WORKLOADS)[])) },
    ),
  })
  .map(({ style, counts, mutations, kind }) => {
    const pod = basePod(style, counts);
    for (const m of mutations) m(pod);
    return wrap(valid(pod), kind);
  });
