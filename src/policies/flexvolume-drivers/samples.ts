import { container, pod, workload, type Json, type Sample } from "../sample.ts";

const exemptImage = "registry.example.com/x/storage-agent:1.0";

const flex = (name: string, driver: string): Json => ({ name, flexVolume: { driver, fsType: "ext4" } });
const lvmAllowed = { allowed: ["example.com/lvm", "example.com/nfs"] };

export const samples: Sample[] = [
  {
    name: "no-flex-volume",
    description: "other volume types (even hostPath) are not this control's business",
    object: pod({
      volumes: [
        { name: "scratch", emptyDir: {} },
        { name: "logs", hostPath: { path: "/var/log" } },
      ],
    }),
    expect: [],
  },
  {
    name: "flex-by-default",
    description: "the default empty list refuses every flexVolume",
    object: pod({ volumes: [{ name: "scratch", emptyDir: {} }, flex("data", "example.com/lvm")] }),
    expect: [{ field: "spec.volumes[1].flexVolume.driver" }],
  },
  {
    name: "listed-driver",
    description: "a listed driver is admitted",
    options: lvmAllowed,
    object: pod({
      containers: [container("app", { volumeMounts: [{ name: "data", mountPath: "/data" }] })],
      volumes: [flex("data", "example.com/lvm")],
    }),
    expect: [],
  },
  {
    name: "unlisted-driver",
    description: "names are exact: example.com/lvm does not admit example.com/lvm2 or a driver without one",
    options: lvmAllowed,
    object: pod({
      volumes: [flex("ok", "example.com/nfs"), flex("data", "example.com/lvm2"), { name: "bare", flexVolume: { fsType: "ext4" } }],
    }),
    expect: [{ field: "spec.volumes[1].flexVolume.driver" }, { field: "spec.volumes[2].flexVolume.driver" }],
  },
  {
    name: "all-images-exempt",
    description: "when every container (init, app, ephemeral) is exempt, the pod's volumes are not checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*" }] },
    object: pod({
      initContainers: [container("format", { image: exemptImage })],
      containers: [container("agent", { image: exemptImage })],
      ephemeralContainers: [container("debug", { image: exemptImage })],
      volumes: [flex("data", "example.com/lvm")],
    }),
    expect: [],
  },
  {
    name: "one-image-not-exempt",
    description: "a non-exempt init container keeps the pod's volumes checked",
    exemptions: { images: [{ pattern: "registry.example.com/x/*" }] },
    object: pod({
      initContainers: [container("format")],
      containers: [container("agent", { image: exemptImage })],
      volumes: [flex("data", "example.com/lvm")],
    }),
    expect: [{ field: "spec.volumes[0].flexVolume.driver" }],
  },
  {
    name: "namespace-exempt",
    description: "a namespace matched by an exemption glob is not checked",
    exemptions: { namespaces: [{ pattern: "team-*" }] },
    object: pod({ volumes: [flex("data", "example.com/lvm")] }),
    expect: [],
  },
  {
    name: "statefulset-flex",
    description: "a StatefulSet whose pod template uses an unlisted driver (through expansion)",
    options: lvmAllowed,
    object: workload("StatefulSet", { volumes: [flex("data", "example.com/ceph")] }),
    expect: [{ field: "spec.volumes[0].flexVolume.driver" }],
  },
];
