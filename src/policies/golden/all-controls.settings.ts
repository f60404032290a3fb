// The all-controls document of the golden files: every control enabled, every option away from
// its default, and each kind of exemption (environment-wide, per control, expired), so a change
// to any part of the renderer shows in golden/all-controls.yaml.
import type { EnvironmentSettingsInput } from "../settings.ts";

export const ALL_CONTROLS: EnvironmentSettingsInput = {
  enforcementAction: "warn",
  exemptions: {
    namespaces: [
      { pattern: "kube-system", reason: "Kubernetes system components" },
      { pattern: "team-*", reason: "every team namespace", expiresAt: "2027-01-01T00:00:00Z" },
      { pattern: "old-ns", reason: "already expired", expiresAt: "2026-01-01T00:00:00Z" },
    ],
    images: [{ pattern: "registry.k8s.io/*", reason: "Kubernetes' own images" }],
  },
  controls: {
    privilegedContainers: { enabled: true, enforcementAction: "deny" },
    hostNamespaces: { enabled: true, options: { allowHostPID: true, allowHostIPC: true } },
    hostNetworkPorts: {
      enabled: true,
      options: { allowHostNetwork: true, hostPorts: [{ min: 8000, max: 8080 }, { min: 443, max: 443 }] },
    },
    volumeTypes: { enabled: true, options: { allowed: ["configMap", "secret", "emptyDir", "hostPath"] } },
    hostPaths: {
      enabled: true,
      options: { allowed: [{ pathPrefix: "/var/log", readOnly: true }, { pathPrefix: "/data" }] },
    },
    flexVolumeDrivers: { enabled: true, options: { allowed: ["example.com/lvm"] } },
    readOnlyRootFilesystem: { enabled: true, enforcementAction: "dryrun" },
    usersAndGroups: {
      enabled: true,
      options: {
        runAsUser: { rule: "MustRunAs", ranges: [{ min: 1000, max: 1999 }] },
        runAsGroup: { rule: "MayRunAs", ranges: [{ min: 1000, max: 1999 }] },
        supplementalGroups: { rule: "MustRunAs", ranges: [{ min: 2000, max: 2999 }] },
        fsGroup: { rule: "MayRunAs", ranges: [{ min: 3000, max: 3000 }] },
      },
    },
    privilegeEscalation: {
      enabled: true,
      exemptions: { images: [{ pattern: "example.com/sudo:1", reason: "a legacy tool" }] },
    },
    capabilities: { enabled: true, options: { allowedAdd: ["NET_BIND_SERVICE", "CHOWN"], requiredDrop: ["ALL"] } },
    seLinux: { enabled: true, options: { allowed: [{ type: "container_t", level: "*" }, { user: "system_u", role: "system_r" }] } },
    procMount: { enabled: true, options: { allowed: "Unmasked" } },
    appArmor: { enabled: true, options: { allowed: ["runtime/default", "localhost/k8s-nginx"] } },
    seccomp: { enabled: true, options: { allowed: ["RuntimeDefault", "Localhost/profiles/audit.json"], allowUnset: true } },
    sysctls: { enabled: true, options: { forbidden: ["kernel.shm_rmid_forced"], allowedUnsafe: ["net.core.somaxconn", "kernel.msg*"] } },
    windowsHostProcess: {
      enabled: true,
      exemptions: { namespaces: [{ pattern: "windows-system", reason: "node agents" }] },
    },
    probeHosts: { enabled: true, options: { allowedHosts: ["health.example.com", "10.0.0.1"] } },
  },
};
