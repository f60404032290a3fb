// fast-check generators of settings documents a user could write: meant to be valid, in every
// shape the schema allows (casing of capabilities, unsorted lists, expired exemptions …).
import fc from "fast-check";
import { catalogue } from "../../src/policies/catalogue.ts";
import { VOLUME_SOURCES } from "../../src/policies/volume-types/index.ts";

const nsPattern = fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?\*?$/);
const imagePattern = fc.stringMatching(/^[a-z0-9][a-z0-9./:-]{0,24}\*?$/);
const time = fc.integer({ min: Date.parse("2026-01-01"), max: Date.parse("2027-12-31") }).map((t) => new Date(t).toISOString());

const exemption = (pattern: fc.Arbitrary<string>) =>
  fc.record({ pattern, reason: fc.string({ minLength: 1, maxLength: 20 }), expiresAt: time }, { requiredKeys: ["pattern"] });
const exemptions = fc.record(
  {
    namespaces: fc.uniqueArray(exemption(nsPattern), { maxLength: 4, selector: (e) => e.pattern }),
    images: fc.uniqueArray(exemption(imagePattern), { maxLength: 4, selector: (e) => e.pattern }),
  },
  { requiredKeys: [] },
);

/** Disjoint [min, max] ranges: sorted distinct numbers taken in pairs, then shuffled. */
const ranges = (min: number, max: number, minLength = 0) =>
  fc
    .uniqueArray(fc.integer({ min, max }), { minLength: minLength * 2, maxLength: 8 })
    .map((xs) => xs.sort((a, b) => a - b))
    .map((xs) => Array.from({ length: Math.floor(xs.length / 2) }, (_, i) => ({ min: xs[2 * i]!, max: xs[2 * i + 1]! })))
    .chain((rs) => fc.shuffledSubarray(rs, { minLength: rs.length, maxLength: rs.length }));

const MAX_ID = 2_147_483_647;
const idRule = (rules: string[]) =>
  fc
    .constantFrom(...rules)
    .chain((rule) => (["MustRunAs", "MayRunAs"].includes(rule) ? fc.record({ rule: fc.constant(rule), ranges: ranges(0, MAX_ID, 1) }) : fc.constant({ rule })));
const groupRule = idRule(["MustRunAs", "MayRunAs", "RunAsAny"]);

const capability = fc.constantFrom("NET_ADMIN", "cap_sys_time", "CAP_CHOWN", "net_bind_service", "SYS_PTRACE", "KILL", "ALL", "setuid");
const word = fc.stringMatching(/^[a-z0-9_-]{1,6}$/);
const path = fc.array(word, { minLength: 1, maxLength: 3 }).map((s) => `/${s.join("/")}`);
const sysctlGlob = fc.oneof(
  fc.constantFrom("kernel.*", "net.core.somaxconn", "net.ipv4.*", "vm.swappiness", "kernel.msg*"),
  fc.stringMatching(/^[a-z]{1,5}\.[a-z_]{1,8}\*?$/),
);
const selinuxValue = fc.constantFrom("*", "container_t", "system_u", "s0:c1,c2", "spc_t", "object_r");

const options: Record<string, fc.Arbitrary<unknown>> = {
  hostNamespaces: fc.record({ allowHostPID: fc.boolean(), allowHostIPC: fc.boolean() }, { requiredKeys: [] }),
  hostNetworkPorts: fc.record({ allowHostNetwork: fc.boolean(), hostPorts: ranges(1, 65535) }, { requiredKeys: [] }),
  volumeTypes: fc.record({ allowed: fc.oneof(fc.constant(["*"]), fc.shuffledSubarray([...VOLUME_SOURCES], { maxLength: 10 })) }, { requiredKeys: [] }),
  hostPaths: fc.record(
    {
      allowed: fc.uniqueArray(fc.record({ pathPrefix: path, readOnly: fc.boolean() }, { requiredKeys: ["pathPrefix"] }), {
        maxLength: 4,
        selector: (e) => e.pathPrefix,
      }),
    },
    { requiredKeys: [] },
  ),
  flexVolumeDrivers: fc.record({ allowed: fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9./-]{0,15}$/), { maxLength: 4 }) }, { requiredKeys: [] }),
  usersAndGroups: fc.record(
    { runAsUser: idRule(["MustRunAs", "MustRunAsNonRoot", "RunAsAny"]), runAsGroup: groupRule, supplementalGroups: groupRule, fsGroup: groupRule },
    { requiredKeys: [] },
  ),
  capabilities: fc.record(
    { allowedAdd: fc.uniqueArray(capability, { maxLength: 4 }), requiredDrop: fc.uniqueArray(capability, { maxLength: 3 }) },
    { requiredKeys: [] },
  ),
  seLinux: fc.record(
    {
      allowed: fc.uniqueArray(fc.record({ user: selinuxValue, role: selinuxValue, type: selinuxValue, level: selinuxValue }, { requiredKeys: ["type"] }), {
        maxLength: 4,
      }),
    },
    { requiredKeys: [] },
  ),
  procMount: fc.record({ allowed: fc.constantFrom("Default", "Unmasked") }, { requiredKeys: [] }),
  appArmor: fc.record({ allowed: fc.shuffledSubarray(["runtime/default", "unconfined", "localhost/*"], { minLength: 1 }) }, { requiredKeys: [] }),
  seccomp: fc.record(
    { allowed: fc.shuffledSubarray(["RuntimeDefault", "Unconfined", "Localhost/*"], { minLength: 1 }), allowUnset: fc.boolean() },
    { requiredKeys: [] },
  ),
  sysctls: fc.record(
    { forbidden: fc.uniqueArray(sysctlGlob, { maxLength: 3 }), allowedUnsafe: fc.uniqueArray(sysctlGlob, { maxLength: 3 }) },
    { requiredKeys: [] },
  ),
  probeHosts: fc.record({ allowedHosts: fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9.-]{0,12}$/), { maxLength: 3 }) }, { requiredKeys: [] }),
};

const action = fc.constantFrom("deny", "warn", "dryrun");

export const settingsDocument = fc.record(
  {
    enforcementAction: action,
    exemptions,
    controls: fc.record(
      Object.fromEntries(
        catalogue.map((c) => [
          c.id,
          fc.record({ enabled: fc.boolean(), enforcementAction: action, exemptions, options: options[c.id] ?? fc.constant({}) }, { requiredKeys: [] }),
        ]),
      ),
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["controls"] },
);
