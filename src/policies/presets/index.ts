// Kubernetes Pod Security Standards (the version current with Kubernetes v1.36) as settings of
// Gatehouse's controls. Where a preset differs from PSS, presets/README.md says how and why.
import type { EnvironmentSettingsInput } from "../settings.ts";
import { RESTRICTED_VOLUME_TYPES } from "../volume-types/index.ts";

type Controls = NonNullable<EnvironmentSettingsInput["controls"]>;

/** Capabilities PSS baseline lets a container add (the container runtimes' default set). */
export const BASELINE_CAPABILITIES = [
  "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
  "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
];

/** SELinux types PSS baseline accepts; user and role must stay unset, any level. */
const BASELINE_SELINUX = [
  { level: "*" },
  ...["container_t", "container_init_t", "container_kvm_t", "container_engine_t"].map((type) => ({ type, level: "*" })),
];

const baseline: Controls = {
  privilegedContainers: { enabled: true },
  hostNamespaces: { enabled: true, options: { allowHostPID: false, allowHostIPC: false } },
  hostNetworkPorts: { enabled: true, options: { allowHostNetwork: false, hostPorts: [] } },
  hostPaths: { enabled: true, options: { allowed: [] } },
  capabilities: { enabled: true, options: { allowedAdd: BASELINE_CAPABILITIES, requiredDrop: [] } },
  seLinux: { enabled: true, options: { allowed: BASELINE_SELINUX } },
  procMount: { enabled: true, options: { allowed: "Default" } },
  appArmor: { enabled: true, options: { allowed: ["runtime/default", "localhost/*"] } },
  seccomp: { enabled: true, options: { allowed: ["RuntimeDefault", "Localhost/*"], allowUnset: true } },
  sysctls: { enabled: true, options: { forbidden: [], allowedUnsafe: [] } },
  windowsHostProcess: { enabled: true },
  probeHosts: { enabled: true, options: { allowedHosts: [] } },
};

const restricted: Controls = {
  ...baseline,
  volumeTypes: { enabled: true, options: { allowed: [...RESTRICTED_VOLUME_TYPES] } },
  privilegeEscalation: { enabled: true },
  usersAndGroups: { enabled: true, options: { runAsUser: { rule: "MustRunAsNonRoot", ranges: [] } } },
  capabilities: { enabled: true, options: { allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: ["ALL"] } },
  seccomp: { enabled: true, options: { allowed: ["RuntimeDefault", "Localhost/*"], allowUnset: false } },
};

export const presets = {
  baseline: {
    title: "Pod Security Standards: baseline",
    description: "Prevents known privilege escalations; admits the typical application pod unchanged.",
    controls: baseline,
  },
  restricted: {
    title: "Pod Security Standards: restricted",
    description: "Current pod hardening best practice: baseline plus non-root, no privilege escalation, drop ALL, seccomp.",
    controls: restricted,
  },
} as const;

export type PresetName = keyof typeof presets;
export const PRESET_NAMES = Object.keys(presets) as PresetName[];

/** A preset's controls applied to existing settings: environment-wide knobs are kept. */
export function applyPreset(settings: EnvironmentSettingsInput, name: PresetName): EnvironmentSettingsInput {
  return { ...settings, controls: structuredClone(presets[name].controls) };
}
