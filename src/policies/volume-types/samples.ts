import { container, pod, workload, type Json, type Sample } from "../sample.ts";

const exemptImage = "registry.example.com/x/log-agent:2.0";

const hostLog: Json = { name: "logs", hostPath: { path: "/var/log" } };
const scratch: Json = { name: "scratch", emptyDir: {} };

/** One volume of each type the default (restricted) list admits. */
const restrictedVolumes: Json[] = [
  { name: "config", configMap: { name: "app-config" } },
  { name: "csi-vol", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true } },
  { name: "labels", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
  scratch,
  {
    name: "eph",
    ephemeral: {
      volumeClaimTemplate: {
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
      },
    },
  },
  { name: "data", persistentVolumeClaim: { claimName: "data" } },
  { name: "token", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
  { name: "creds", secret: { secretName: "creds" } },
];

export const samples: Sample[] = [
  { name: "no-volumes", description: "a pod without volumes", object: pod(), expect: [] },
  {
    name: "restricted-volume-types",
    description: "every type of the default (restricted) list is admitted",
    object: pod({ volumes: restrictedVolumes }),
    expect: [],
  },
  {
    name: "host-path-by-default",
    description: "hostPath is not in the default list",
    object: pod({ volumes: [scratch, hostLog] }),
    expect: [{ field: "spec.volumes[1].hostPath" }],
  },
  {
    name: "network-and-git-volumes",
    description: "nfs and gitRepo are refused, one finding per volume",
    object: pod({
      volumes: [
        { name: "share", nfs: { server: "nfs.example.com", path: "/exports" } },
        { name: "src", gitRepo: { repository: "https://example.com/x.git" } },
        { name: "data", persistentVolumeClaim: { claimName: "data" } },
      ],
    }),
    expect: [{ field: "spec.volumes[0].nfs" }, { field: "spec.volumes[1].gitRepo" }],
  },
  {
    name: "any-volume-type",
    description: 'allowed: ["*"] admits every type',
    options: { allowed: ["*"] },
    object: pod({ volumes: [hostLog, { name: "share", nfs: { server: "nfs.example.com", path: "/x" } }] }),
    expect: [],
  },
  {
    name: "only-host-path-admits-host-path",
    description: "a custom list admits what it names",
    options: { allowed: ["hostPath", "configMap"] },
    object: pod({ volumes: [hostLog, { name: "config", configMap: { name: "c" } }] }),
    expect: [],
  },
  {
    name: "only-host-path-refuses-empty-dir",
    description: "a custom list refuses types it does not name, even restricted ones",
    options: { allowed: ["hostPath", "configMap"] },
    object: pod({ volumes: [scratch] }),
    expect: [{ field: "spec.volumes[0].emptyDir" }],
  },
  {
    name: "no-volumes-allowed-refuses",
    description: "an empty list refuses every volume",
    options: { allowed: [] },
    object: pod({ volumes: [scratch, { name: "config", configMap: { name: "c" } }] }),
    expect: [{ field: "spec.volumes[0].emptyDir" }, { field: "spec.volumes[1].configMap" }],
  },
  {
    name: "no-volumes-allowed-admits-none",
    description: "an empty list still admits a pod without volumes",
    options: { allowed: [] },
    object: pod(),
    expect: [],
  },
  {
    name: "all-images-exempt",
    description: "when every container (init and app) is exempt, the pod's volumes are not checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*" }] },
    object: pod({
      initContainers: [container("setup", { image: exemptImage })],
      containers: [container("agent", { image: exemptImage })],
      volumes: [hostLog],
    }),
    expect: [],
  },
  {
    name: "one-image-not-exempt",
    description: "a non-exempt ephemeral container keeps the pod's volumes checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*" }] },
    object: pod({
      containers: [container("agent", { image: exemptImage })],
      ephemeralContainers: [container("debug")],
      volumes: [hostLog],
    }),
    expect: [{ field: "spec.volumes[0].hostPath" }],
  },
  {
    name: "namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ volumes: [hostLog] }),
    expect: [],
  },
  {
    name: "daemonset-host-path",
    description: "a DaemonSet whose pod template mounts hostPath (through expansion)",
    object: workload("DaemonSet", {
      containers: [container("agent", { volumeMounts: [{ name: "logs", mountPath: "/logs" }] })],
      volumes: [hostLog],
    }),
    expect: [{ field: "spec.volumes[0].hostPath" }],
  },
  {
    name: "cronjob-nfs",
    description: "a CronJob whose pod template uses nfs (through expansion)",
    object: workload("CronJob", { volumes: [{ name: "share", nfs: { server: "nfs.example.com", path: "/x" } }] }),
    expect: [{ field: "spec.volumes[0].nfs" }],
  },
  {
    name: "image-volume-restricted",
    description: "an image volume (an OCI image's content, read-only) is in the PSS restricted list, the default",
    object: pod({ volumes: [{ name: "models", image: { reference: "registry.example.com/models:1" } }] }),
    expect: [],
  },
];
