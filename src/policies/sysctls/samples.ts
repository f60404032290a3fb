import { container, pod, workload, type Sample } from "../sample.ts";

const withSysctls = (...names: string[]) => ({
  securityContext: { sysctls: names.map((name) => ({ name, value: "1" })) },
});
const field = (i: number) => ({ field: `spec.securityContext.sysctls[${i}].name` });
const exemptImage = "registry.example.com/x/db:16";
const exemptImages = { images: [{ pattern: "registry.example.com/x/*", reason: "tuned database" }] };

const allowMsg = { allowedUnsafe: ["net.core.somaxconn", "kernel.msg*"] };
const forbidTcp = { forbidden: ["net.ipv4.tcp_*"] };
const both = { forbidden: ["kernel.msgmax", "kernel.sem*"], allowedUnsafe: ["kernel.*"] };
const anyButMsg = { forbidden: ["kernel.msg*"], allowedUnsafe: ["*"] };

export const samples: Sample[] = [
  {
    name: "sysctls-none",
    description: "default: no sysctls at all",
    object: pod(),
    expect: [],
  },
  {
    name: "sysctls-safe",
    description: "default: sysctls from the Kubernetes safe set are allowed",
    object: pod(withSysctls("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_keepalive_time")),
    expect: [],
  },
  {
    name: "sysctls-safe-slash-form",
    description: "default: a safe sysctl written with / separators is the same sysctl",
    object: pod(withSysctls("net/ipv4/tcp_syncookies")),
    expect: [],
  },
  {
    name: "sysctls-unsafe",
    description: "default: an unsafe sysctl, after a safe one, is refused at its index",
    object: pod({ ...withSysctls("net.ipv4.tcp_syncookies", "kernel.msgmax"), initContainers: [container("setup")] }),
    expect: [field(1)],
  },
  {
    name: "sysctls-unsafe-lookalike",
    description: "default: a prefix of a safe name is not safe",
    object: pod(withSysctls("net.ipv4.tcp_keepalive")),
    expect: [field(0)],
  },
  {
    name: "sysctls-allowed-unsafe",
    description: "allowedUnsafe: an exact name and a glob let these unsafe sysctls through",
    options: allowMsg,
    object: pod(withSysctls("net.core.somaxconn", "kernel.msgmax", "kernel.msgmnb")),
    expect: [],
  },
  {
    name: "sysctls-allowed-unsafe-other",
    description: "allowedUnsafe: an unsafe sysctl matching no allowed glob is still refused",
    options: allowMsg,
    object: pod(withSysctls("kernel.msgmax", "kernel.sem")),
    expect: [field(1)],
  },
  {
    name: "sysctls-forbidden-safe",
    description: "forbidden: a glob refuses even sysctls from the safe set",
    options: forbidTcp,
    object: pod(withSysctls("net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies")),
    expect: [field(1)],
  },
  {
    name: "sysctls-forbidden-other-safe",
    description: "forbidden: safe sysctls the glob does not match remain allowed",
    options: forbidTcp,
    object: pod(withSysctls("net.ipv4.ping_group_range")),
    expect: [],
  },
  {
    name: "sysctls-forbidden-wins",
    description: "forbidden beats allowedUnsafe; one finding per sysctl",
    options: both,
    object: pod(withSysctls("kernel.shmmax", "kernel.msgmax", "kernel.sem")),
    expect: [field(1), field(2)],
  },
  {
    name: "sysctls-forbidden-slash-form",
    description: "forbidden: the / form of a forbidden name is caught; other / names are allowed by *",
    options: anyButMsg,
    object: pod(withSysctls("net/ipv4/conf/eth0.100/rp_filter", "kernel/msgmax")),
    expect: [field(1)],
  },
  {
    name: "sysctls-forbidden-by-two",
    description: "every forbidden glob that matches is named, even for a safe sysctl",
    options: { forbidden: ["kernel.*", "kernel.msg*"] },
    object: pod(withSysctls("kernel.msgmax", "kernel.shm_rmid_forced", "net.ipv4.tcp_syncookies")),
    expect: [field(0), field(1)],
  },
  {
    name: "sysctls-image-exempt",
    description: "pod-level sysctls are not checked when every container's image is exempt",
    exemptions: exemptImages,
    object: pod({ ...withSysctls("kernel.msgmax"), containers: [container("db", { image: exemptImage })] }),
    expect: [],
  },
  {
    name: "sysctls-image-exempt-ephemeral",
    description: "a non-exempt ephemeral container means the pod-level sysctls are checked",
    exemptions: exemptImages,
    object: pod({
      ...withSysctls("kernel.msgmax"),
      containers: [container("db", { image: exemptImage })],
      ephemeralContainers: [container("debug")],
    }),
    expect: [field(0)],
  },
  {
    name: "sysctls-namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod(withSysctls("kernel.msgmax")),
    expect: [],
  },
  {
    name: "sysctls-job",
    description: "a Job whose pod template sets an unsafe sysctl (through expansion)",
    object: workload("Job", withSysctls("vm.overcommit_memory")),
    expect: [field(0)],
  },
  {
    name: "v1-32-safe-sysctls",
    description: "safeSet latest (default): net.ipv4.tcp_rmem and tcp_wmem are safe from v1.32 on",
    object: pod(withSysctls("net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem")),
    expect: [],
  },
  {
    name: "v1-31-safe-set",
    description: "safeSet v1.31: tcp_rmem and tcp_wmem were not safe yet",
    options: { safeSet: "v1.31" },
    object: pod(withSysctls("net.ipv4.tcp_rmem", "net.ipv4.tcp_syncookies", "net.ipv4.tcp_wmem")),
    expect: [field(0), field(2)],
  },
  {
    name: "exact-names-slash-form",
    description: "names: exact (PSS) compares names as written: net/ipv4/tcp_syncookies is not in the safe set",
    options: { names: "exact" },
    object: pod(withSysctls("net.ipv4.tcp_syncookies", "net/ipv4/tcp_syncookies")),
    expect: [field(1)],
  },
  {
    name: "exact-names-workload",
    description: "names: exact on a CronJob's pod template (through expansion)",
    options: { names: "exact" },
    object: workload("CronJob", withSysctls("kernel/shm_rmid_forced")),
    expect: [field(0)],
  },
  {
    name: "v1-31-safe-set-admits-its-own",
    description: "safeSet v1.31: a sysctl safe since before v1.32 is still admitted (test/cel/option-coverage.test.ts)",
    options: { safeSet: "v1.31" },
    object: pod(withSysctls("kernel.shm_rmid_forced", "net.ipv4.tcp_syncookies")),
    expect: [],
  },
  {
    name: "exact-names-dot-form",
    description: "names: exact admits a safe sysctl written in the dot form the safe set uses",
    options: { names: "exact" },
    object: pod(withSysctls("net.ipv4.tcp_syncookies", "kernel.shm_rmid_forced")),
    expect: [],
  },
];
