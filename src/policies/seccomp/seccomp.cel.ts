// The CEL twin of seccomp.rego (see ../cel.ts): the same findings, word for word. The effective
// profile is the container's, else the pod's; CEL has no local bindings, so the expression for
// it is spelt out where it is used.
import { containerFinding, containersWith, field, podFieldRef, podFinding, type ControlCel } from "../cel.ts";

/** `RuntimeDefault`, `Localhost/<file>`, … of a seccompProfile at `path` (Rego's seccomp_name). */
const name = (path: string) =>
  `dyn(has(${path}.type) && ${path}.type == "Localhost" ? "Localhost/" + (has(${path}.localhostProfile) ? ${path}.localhostProfile : "") : (has(${path}.type) ? string(${path}.type) : ""))`;
const own = field("ct.c", "securityContext.seccompProfile");
const inherited = field("variables.pod", "spec.securityContext.seccompProfile");
const profile = `(${own} != null ? ${name("ct.c.securityContext.seccompProfile")} : ${inherited} != null ? ${name("variables.pod.spec.securityContext.seccompProfile")} : null)`;
const note = `(${own} != null ? "" : ${inherited} != null ? "inherited from " + ${podFieldRef("spec.securityContext.seccompProfile")} + "; " : "no seccompProfile is set on the container or the pod; ")`;
const from = `(${own} != null ? "container" : ${inherited} != null ? "pod" : "unset")`;
const podProfile = name("variables.pod.spec.securityContext.seccompProfile");
const matchesAllowed = (p: string) => `variables.params.allowed.exists(a, a.endsWith("*") ? string(${p}).startsWith(a.substring(0, size(a) - 1)) : a == ${p})`;
const allowed = `(ct.profile == null ? (variables.params.allowUnset || variables.windowsPod) : variables.params.allowed.exists(a, a.endsWith("*") ? string(ct.profile).startsWith(a.substring(0, size(a) - 1)) : a == ct.profile))`;

export const cel: ControlCel = {
  variables: [
    {
      name: "seccompWhy",
      expression: `"allowed seccomp profiles: " + (size(variables.params.allowed) == 0 ? "none" : variables.params.allowed.join(", ")) + "; " + (variables.params.allowUnset ? "unset is allowed" : "a profile must be set (unset runs Unconfined unless the kubelet enables SeccompDefault)")`,
    },
    // The effective profile and the note about where it came from, once per container.
    { name: "profiles", expression: containersWith({ profile, note, from }) },
    // checkOverridden (Pod Security Standards): the pod's own profile is one pod finding, even where
    // every container overrides it; containers inheriting it are then not reported again.
    {
      name: "podFindings",
      expression: `variables.params.checkOverridden == true && variables.podChecked && ${inherited} != null && !${matchesAllowed(podProfile)} ? [${podFinding(
        "spec.securityContext.seccompProfile",
        `"\\"" + string(${podProfile}) + "\\""`,
        "@WHY@",
      ).replace(
        '"; @WHY@."',
        '"; allowed seccomp profiles: " + (size(variables.params.allowed) == 0 ? "none" : variables.params.allowed.join(", ")) + "; the pod\'s profile is checked even where containers set their own."',
      )}] : []`,
    },
    {
      name: "containerFindings",
      expression: `variables.profiles.filter(ct, !(variables.params.checkOverridden == true && ct.from == "pod") && !${allowed}).map(ct, ${containerFinding(
        "securityContext.seccompProfile",
        '(ct.profile == null ? "null" : "\\"" + string(ct.profile) + "\\"")',
        "@WHY@",
      ).replace('"; @WHY@."', '"; " + ct.note + variables.seccompWhy + "."')})`,
    },
    { name: "findings", expression: "variables.podFindings + variables.containerFindings" },
  ],
};
