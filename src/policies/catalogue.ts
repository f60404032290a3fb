// Every control, in the order they are rendered and listed. The first 15 are the seed table;
// the last two are checks Pod Security Standards need that the seed table lacks.
import type { AnyControl } from "./control.ts";
import { privilegedContainers } from "./privileged-containers/index.ts";
import { hostNamespaces } from "./host-namespaces/index.ts";
import { hostNetworkPorts } from "./host-network-ports/index.ts";
import { volumeTypes } from "./volume-types/index.ts";
import { hostPaths } from "./host-paths/index.ts";
import { flexVolumeDrivers } from "./flexvolume-drivers/index.ts";
import { readOnlyRootFilesystem } from "./read-only-root-filesystem/index.ts";
import { usersAndGroups } from "./users-and-groups/index.ts";
import { privilegeEscalation } from "./privilege-escalation/index.ts";
import { capabilities } from "./capabilities/index.ts";
import { seLinux } from "./selinux/index.ts";
import { procMount } from "./proc-mount/index.ts";
import { appArmor } from "./apparmor/index.ts";
import { seccomp } from "./seccomp/index.ts";
import { sysctls } from "./sysctls/index.ts";
import { windowsHostProcess } from "./windows-host-process/index.ts";
import { probeHosts } from "./probe-hosts/index.ts";

export const catalogue: readonly AnyControl[] = [
  privilegedContainers,
  hostNamespaces,
  hostNetworkPorts,
  volumeTypes,
  hostPaths,
  flexVolumeDrivers,
  readOnlyRootFilesystem,
  usersAndGroups,
  privilegeEscalation,
  capabilities,
  seLinux,
  procMount,
  appArmor,
  seccomp,
  sysctls,
  windowsHostProcess,
  probeHosts,
];

export const controlById = new Map(catalogue.map((c) => [c.id, c]));
