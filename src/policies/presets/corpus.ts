// Realistic pods with the verdicts Pod Security Standards give them, written from the PSS
// documentation: for each level, the Gatehouse controls that must report a violation
// ([] = the pod passes that level).
import { container, pod, workload, type Json } from "../sample.ts";

export interface CorpusEntry {
  name: string;
  description: string;
  object: Json;
  baseline: string[];
  restricted: string[];
}

/** What a restricted-compliant container looks like. */
const hardened = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
};
const restrictedPod = { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } };
// An ordinary app with no securityContext fails exactly these restricted checks.
const plainRestricted = ["privilege-escalation", "users-and-groups", "capabilities", "seccomp"];

export const corpus: CorpusEntry[] = [
  {
    name: "plain-web-app",
    description: "nginx with no securityContext: the typical app PSS baseline admits",
    object: pod({ containers: [container("web", { image: "nginx:1.27", ports: [{ containerPort: 80 }] })] }),
    baseline: [],
    restricted: plainRestricted,
  },
  {
    name: "restricted-app",
    description: "an app hardened to PSS restricted",
    object: pod({
      securityContext: restrictedPod,
      containers: [container("api", { securityContext: hardened })],
      volumes: [
        { name: "tmp", emptyDir: {} },
        { name: "cfg", configMap: { name: "api" } },
      ],
    }),
    baseline: [],
    restricted: [],
  },
  {
    name: "restricted-app-bind-service",
    description: "restricted app that adds NET_BIND_SERVICE (the one capability restricted allows) and sets container-level seccomp",
    object: pod({
      securityContext: { runAsNonRoot: true, runAsUser: 10001 },
      containers: [
        container("edge", {
          securityContext: {
            ...hardened,
            capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
            seccompProfile: { type: "Localhost", localhostProfile: "profiles/edge.json" },
          },
        }),
      ],
      initContainers: [container("migrate", { securityContext: { ...hardened, seccompProfile: { type: "RuntimeDefault" } } })],
    }),
    baseline: [],
    restricted: [],
  },
  {
    name: "restricted-deployment",
    description: "a Deployment whose pod template is restricted-compliant",
    object: workload("Deployment", { securityContext: restrictedPod, containers: [container("app", { securityContext: hardened })] }),
    baseline: [],
    restricted: [],
  },
  {
    name: "coredns",
    description: "cluster DNS: adds NET_BIND_SERVICE, drops ALL, no privilege escalation, but sets neither runAsNonRoot nor seccomp",
    object: pod({
      containers: [
        container("coredns", {
          image: "registry.k8s.io/coredns/coredns:v1.12.0",
          securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] }, readOnlyRootFilesystem: true },
        }),
      ],
      volumes: [{ name: "config-volume", configMap: { name: "coredns" } }],
    }),
    baseline: [],
    restricted: ["users-and-groups", "seccomp"],
  },
  {
    name: "kube-proxy",
    description: "kube-proxy DaemonSet: privileged, host network, hostPath mounts",
    object: workload("DaemonSet", {
      hostNetwork: true,
      containers: [
        container("kube-proxy", {
          image: "registry.k8s.io/kube-proxy:v1.36.3",
          securityContext: { privileged: true },
          volumeMounts: [{ name: "lib-modules", mountPath: "/lib/modules", readOnly: true }],
        }),
      ],
      volumes: [
        { name: "lib-modules", hostPath: { path: "/lib/modules" } },
        { name: "kube-proxy", configMap: { name: "kube-proxy" } },
      ],
    }),
    baseline: ["privileged-containers", "host-network-ports", "host-paths"],
    restricted: ["privileged-containers", "host-network-ports", "host-paths", "volume-types", ...plainRestricted],
  },
  {
    name: "cni-agent",
    description: "a CNI agent: host network and PID, NET_ADMIN/SYS_ADMIN, hostPath for the CNI config, unconfined seccomp",
    object: pod({
      hostNetwork: true,
      hostPID: true,
      containers: [
        container("agent", {
          image: "registry.example.com/cni/agent:1.16",
          securityContext: { capabilities: { add: ["NET_ADMIN", "SYS_ADMIN", "NET_RAW"] }, seccompProfile: { type: "Unconfined" } },
          volumeMounts: [{ name: "cni-conf", mountPath: "/host/etc/cni/net.d" }],
        }),
      ],
      volumes: [{ name: "cni-conf", hostPath: { path: "/etc/cni/net.d", type: "DirectoryOrCreate" } }],
    }),
    baseline: ["host-namespaces", "host-network-ports", "host-paths", "capabilities", "seccomp"],
    restricted: ["host-namespaces", "host-network-ports", "host-paths", "capabilities", "seccomp", "volume-types", "privilege-escalation", "users-and-groups"],
  },
  {
    name: "log-shipper",
    description: "a log shipper reading /var/log from the node, read-only",
    object: workload("DaemonSet", {
      containers: [
        container("shipper", {
          image: "registry.example.com/logging/shipper:3.2",
          volumeMounts: [{ name: "varlog", mountPath: "/var/log", readOnly: true }],
        }),
      ],
      volumes: [{ name: "varlog", hostPath: { path: "/var/log" } }],
    }),
    baseline: ["host-paths"],
    restricted: ["host-paths", "volume-types", ...plainRestricted],
  },
  {
    name: "node-exporter",
    description: "a metrics exporter on host PID and network, with a host port",
    object: pod({
      hostPID: true,
      hostNetwork: true,
      securityContext: { runAsNonRoot: true, runAsUser: 65534 },
      containers: [
        container("exporter", {
          image: "registry.example.com/monitoring/node-exporter:1.9",
          ports: [{ containerPort: 9100, hostPort: 9100 }],
          securityContext: { readOnlyRootFilesystem: true },
        }),
      ],
    }),
    baseline: ["host-namespaces", "host-network-ports"],
    restricted: ["host-namespaces", "host-network-ports", "privilege-escalation", "capabilities", "seccomp"],
  },
  {
    name: "app-with-host-port",
    description: "an otherwise restricted app that asks for a host port",
    object: pod({
      securityContext: restrictedPod,
      containers: [container("app", { securityContext: hardened, ports: [{ containerPort: 8080, hostPort: 8080 }] })],
    }),
    baseline: ["host-network-ports"],
    restricted: ["host-network-ports"],
  },
  {
    name: "safe-sysctl",
    description: "a pod setting a sysctl from the safe set",
    object: pod({
      securityContext: { ...restrictedPod, sysctls: [{ name: "net.ipv4.ip_local_port_range", value: "1024 65000" }] },
      containers: [container("app", { securityContext: hardened })],
    }),
    baseline: [],
    restricted: [],
  },
  {
    name: "unsafe-sysctl",
    description: "a database tuning an unsafe sysctl",
    object: pod({ securityContext: { sysctls: [{ name: "net.core.somaxconn", value: "4096" }] }, containers: [container("db", { image: "postgres:17" })] }),
    baseline: ["sysctls"],
    restricted: ["sysctls", ...plainRestricted],
  },
  {
    name: "root-user",
    description: "runs as uid 0 explicitly while claiming runAsNonRoot",
    object: pod({ securityContext: { ...restrictedPod, runAsUser: 0 }, containers: [container("app", { securityContext: hardened })] }),
    baseline: [],
    restricted: ["users-and-groups"],
  },
  {
    name: "apparmor-unconfined",
    description: "disables AppArmor through the container's appArmorProfile",
    object: pod({
      securityContext: restrictedPod,
      containers: [container("app", { securityContext: { ...hardened, appArmorProfile: { type: "Unconfined" } } })],
    }),
    baseline: ["apparmor"],
    restricted: ["apparmor"],
  },
  {
    name: "apparmor-annotation-unconfined",
    description: "disables AppArmor through the legacy annotation",
    object: pod(
      { securityContext: restrictedPod, containers: [container("app", { securityContext: hardened })] },
      { annotations: { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" } },
    ),
    baseline: ["apparmor"],
    restricted: ["apparmor"],
  },
  {
    name: "selinux-custom-user",
    description: "sets an SELinux user, which baseline forbids",
    object: pod({
      securityContext: { ...restrictedPod, seLinuxOptions: { user: "system_u", type: "container_t" } },
      containers: [container("app", { securityContext: hardened })],
    }),
    baseline: ["selinux"],
    restricted: ["selinux"],
  },
  {
    name: "selinux-container-type",
    description: "sets an allowed SELinux type and level",
    object: pod({
      securityContext: { ...restrictedPod, seLinuxOptions: { type: "container_init_t", level: "s0:c123,c456" } },
      containers: [container("app", { securityContext: hardened })],
    }),
    baseline: [],
    restricted: [],
  },
  {
    name: "proc-mount-unmasked",
    description: "asks for an unmasked /proc",
    object: pod({ securityContext: restrictedPod, containers: [container("app", { securityContext: { ...hardened, procMount: "Unmasked" } })] }),
    baseline: ["proc-mount"],
    restricted: ["proc-mount"],
  },
  {
    name: "windows-host-process",
    description: "a Windows HostProcess pod",
    object: pod({ hostNetwork: true, securityContext: { windowsOptions: { hostProcess: true, runAsUserName: "NT AUTHORITY\\SYSTEM" } } }),
    baseline: ["host-network-ports", "windows-host-process"],
    restricted: ["host-network-ports", "windows-host-process", ...plainRestricted],
  },
  {
    name: "windows-app",
    description: "a Windows pod: PSS skips the Linux-only checks (seccomp, capabilities, privilege escalation)",
    object: pod({
      os: { name: "windows" },
      securityContext: { runAsNonRoot: true },
      containers: [container("iis", { image: "mcr.microsoft.com/windows/servercore/iis" })],
    }),
    baseline: [],
    restricted: [],
  },
  {
    name: "probe-with-host",
    description: "a liveness probe aimed at another host",
    object: pod({
      securityContext: restrictedPod,
      containers: [container("app", { securityContext: hardened, livenessProbe: { httpGet: { host: "10.0.0.1", path: "/healthz", port: 8080 } } })],
    }),
    baseline: ["probe-hosts"],
    restricted: ["probe-hosts"],
  },
  {
    name: "nfs-volume",
    description: "an NFS volume: baseline admits it, restricted allows only the core volume types",
    object: pod({
      securityContext: restrictedPod,
      containers: [container("app", { securityContext: hardened })],
      volumes: [{ name: "shared", nfs: { server: "nfs.example.com", path: "/exports" } }],
    }),
    baseline: [],
    restricted: ["volume-types"],
  },
  {
    name: "privileged-debug-container",
    description: "an otherwise restricted pod with a privileged ephemeral debug container",
    object: pod({
      securityContext: restrictedPod,
      containers: [container("app", { securityContext: hardened })],
      ephemeralContainers: [container("debug", { securityContext: { ...hardened, privileged: true } })],
    }),
    baseline: ["privileged-containers"],
    restricted: ["privileged-containers"],
  },
  {
    name: "baseline-cronjob",
    description: "a CronJob that is fine under baseline but runs as root by default",
    object: workload("CronJob", { containers: [container("report", { image: "registry.example.com/jobs/report:5" })] }),
    baseline: [],
    restricted: plainRestricted,
  },
];
