// Kubernetes Pod Security Standards as settings of Gatehouse's controls, at every PSS version an
// environment can pin (v1.31 … v1.36, latest), proven against the API server's own PSA library
// by test/pss. Where a preset differs from PSS, presets/README.md says how and why.
import { type PssVersion, pssMinor } from "../common/pss-version.ts";
import type { EnvironmentSettingsInput } from "../settings.ts";
import { RESTRICTED_VOLUME_TYPES } from "../volume-types/index.ts";

type Controls = NonNullable<EnvironmentSettingsInput["controls"]>;

/** Capabilities PSS baseline lets a container add (the container runtimes' default set). */
export const BASELINE_CAPABILITIES = [
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
];

/** SELinux types PSS baseline accepts; user and role must stay unset, any level. */
const BASELINE_SELINUX = [
  { level: "*" },
  ...["container_t", "container_init_t", "container_kvm_t", "container_engine_t"].map((type) => ({ type, level: "*" })),
];

/**
 * The controls of a level at a PSS version. What changed between versions (the checks' own
 * version gates in k8s.io/pod-security-admission):
 * - v1.32: net.ipv4.tcp_rmem / tcp_wmem join the safe sysctls;
 * - v1.34: probe and lifecycle hook hosts are checked (baseline);
 * - v1.35: pods with hostUsers: false may use any procMount (baseline) and skip the
 *   runAsNonRoot / runAsUser checks (restricted); restricted still requires the Default procMount.
 */
export function presetControls(level: PresetName, version: PssVersion = "latest"): Controls {
  const minor = pssMinor(version);
  const baseline: Controls = {
    privilegedContainers: { enabled: true },
    hostNamespaces: { enabled: true, options: { allowHostPID: false, allowHostIPC: false } },
    hostNetworkPorts: { enabled: true, options: { allowHostNetwork: false, hostPorts: [] } },
    hostPaths: { enabled: true, options: { allowed: [] } },
    capabilities: { enabled: true, options: { allowedAdd: BASELINE_CAPABILITIES, requiredDrop: [], names: "exact" } },
    seLinux: { enabled: true, options: { allowed: BASELINE_SELINUX } },
    procMount: { enabled: true, options: { allowed: "Default", anyInUserNamespace: minor >= 35 } },
    appArmor: { enabled: true, options: { allowed: ["runtime/default", "localhost/*"], checkOverridden: true } },
    seccomp: { enabled: true, options: { allowed: ["RuntimeDefault", "Localhost/*"], allowUnset: true, checkOverridden: true } },
    sysctls: { enabled: true, options: { forbidden: [], allowedUnsafe: [], safeSet: version, names: "exact" } },
    windowsHostProcess: { enabled: true },
    ...(minor >= 34 ? { probeHosts: { enabled: true, options: { allowedHosts: [] } } } : {}),
  };
  if (level === "baseline") return baseline;
  return {
    ...baseline,
    volumeTypes: { enabled: true, options: { allowed: [...RESTRICTED_VOLUME_TYPES] } },
    privilegeEscalation: { enabled: true },
    usersAndGroups: {
      enabled: true,
      options: {
        runAsUser: { rule: "MustRunAsNonRoot", ranges: [], requireRunAsNonRoot: true, exemptUserNamespaces: minor >= 35 },
      },
    },
    capabilities: { enabled: true, options: { allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: ["ALL"], names: "exact" } },
    procMount: { enabled: true, options: { allowed: "Default", anyInUserNamespace: false } },
    seccomp: { enabled: true, options: { allowed: ["RuntimeDefault", "Localhost/*"], allowUnset: false, checkOverridden: true } },
  };
}

export type PresetName = "baseline" | "restricted";

export const presets = {
  baseline: {
    title: "Pod Security Standards: baseline",
    description: "Prevents known privilege escalations; admits the typical application pod unchanged.",
    controls: presetControls("baseline"),
  },
  restricted: {
    title: "Pod Security Standards: restricted",
    description: "Current pod hardening best practice: baseline plus non-root, no privilege escalation, drop ALL, seccomp.",
    controls: presetControls("restricted"),
  },
} as const satisfies Record<PresetName, unknown>;

export const PRESET_NAMES = Object.keys(presets) as PresetName[];

/**
 * A preset's controls applied to existing settings at the document's `pssVersion` (or the one
 * given, which the document then records): environment-wide knobs are kept.
 */
export function applyPreset(settings: EnvironmentSettingsInput, name: PresetName, version?: PssVersion): EnvironmentSettingsInput {
  const pinned = version ?? settings.pssVersion;
  return {
    ...settings,
    ...(pinned === undefined ? {} : { pssVersion: pinned }),
    controls: structuredClone(presetControls(name, pinned ?? "latest")),
  };
}
