// Volume sources differ wildly in what they expose: configMap or emptyDir stay inside the pod's
// sandbox, hostPath or a network filesystem reach the node or storage outside the tenant's
// control. This control admits only the volume source types listed in `allowed`.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { sortedSet } from "../common/schemas.ts";

/** Every volume source key of core/v1 Volume (besides `name`). */
export const VOLUME_SOURCES = [
  "awsElasticBlockStore",
  "azureDisk",
  "azureFile",
  "cephfs",
  "cinder",
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "fc",
  "flexVolume",
  "flocker",
  "gcePersistentDisk",
  "gitRepo",
  "glusterfs",
  "hostPath",
  "image",
  "iscsi",
  "nfs",
  "persistentVolumeClaim",
  "photonPersistentDisk",
  "portworxVolume",
  "projected",
  "quobyte",
  "rbd",
  "scaleIO",
  "secret",
  "storageos",
  "vsphereVolume",
] as const;

/** The volume types Pod Security Standards "restricted" allows (image: every version; the
 * kubelet mounts an OCI image's content read-only, no host or network storage). */
export const RESTRICTED_VOLUME_TYPES = [
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "image",
  "persistentVolumeClaim",
  "projected",
  "secret",
] as const;

export const VolumeType = z.enum([...VOLUME_SOURCES, "*"], {
  message: `must be a core/v1 volume source (${VOLUME_SOURCES.join(", ")}) or "*"`,
});
export type VolumeType = z.infer<typeof VolumeType>;

/** Allowed types: distinct, sorted; "*" (any type) must be the only entry. */
export const VolumeTypeList = z
  .array(VolumeType)
  .max(64)
  .superRefine((list, ctx) => {
    const star = list.indexOf("*");
    if (star !== -1 && list.length > 1) {
      ctx.addIssue({ code: "custom", path: [star], message: `"*" allows every volume type and must be the only entry` });
    }
  })
  .pipe(sortedSet(VolumeType, 64));

export const volumeTypes = defineControl({
  id: "volumeTypes",
  slug: "volume-types",
  kind: "GatehouseVolumeTypes",
  title: "Volume types",
  description: "Refuses pods with a volume whose source type (hostPath, nfs, ...) is not in the allowed list.",
  options: z.strictObject({
    allowed: VolumeTypeList.default([...RESTRICTED_VOLUME_TYPES]).describe(
      'volume source types pods may use; "*" alone allows any; empty = no volumes at all. Default: the Pod Security Standards restricted list',
    ),
  }),
  parameters: z.strictObject({
    allowed: z.array(z.string()),
  }),
  toParameters: (o) => ({ allowed: [...o.allowed] }),
  rego: controlRego("volume-types"),
  describe: (o) => {
    if (o.allowed.includes("*")) return "any volume type";
    if (o.allowed.length === 0) return "no volumes";
    return `volume types ${o.allowed.join(", ")}`;
  },
});
