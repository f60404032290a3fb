// The CEL twin of apparmor.rego (see ../cel.ts): the same findings, word for word. A profile is
// set in three places (the container's field, the container's legacy annotation, whose key is
// computed from the container's name, and the pod's field); CEL has no local bindings, so each
// lookup is spelt out where it is used. Findings about an annotation name it as their field, so
// they are built with a placeholder field and spliced.
import { containerFinding, containersWith, field, podFieldRef, podFinding, show, splice, type ControlCel } from "../cel.ts";

const PREFIX = "container.apparmor.security.beta.kubernetes.io/";
const p = "variables.params";
const annotations = "variables.pod.metadata.annotations";
const key = `(${JSON.stringify(PREFIX)} + ct.c.name)`;
/** The container's annotation, or null (Rego's object.get of metadata.annotations[key]). */
const annotation = `(has(variables.pod.metadata.annotations) && ${key} in ${annotations} ? ${annotations}[${key}] : null)`;
const own = field("ct.c", "securityContext.appArmorProfile");
const inherited = field("variables.pod", "spec.securityContext.appArmorProfile");

/** The field's {type, localhostProfile} in the annotation's spelling (Rego's profile_name). */
const name = (path: string) =>
  `dyn(!has(${path}.type) ? "" : ${path}.type == "RuntimeDefault" ? "runtime/default" : ${path}.type == "Unconfined" ? "unconfined" : ${path}.type == "Localhost" ? "localhost/" + (has(${path}.localhostProfile) ? ${path}.localhostProfile : "") : string(${path}.type))`;
const ownName = name("ct.c.securityContext.appArmorProfile");
const podName = name("variables.pod.spec.securityContext.appArmorProfile");
const allowed = (e: string) => `${p}.allowed.exists(a, a.endsWith("*") ? ${e}.startsWith(a.substring(0, size(a) - 1)) : a == ${e})`;
const FIELD = "securityContext.appArmorProfile";

// Precedence as the kubelet applies it: container field, container annotation, pod field, runtime/default.
const profile = `(${own} != null ? ${ownName} : ${annotation} != null ? string(${annotation}) : ${inherited} != null ? ${podName} : "runtime/default")`;
const where = `(${own} != null ? ${JSON.stringify(FIELD)} : ${annotation} != null ? ${key} : ${JSON.stringify(FIELD)})`;
const note = `(${own} != null ? "" : ${annotation} != null ? "set by the pod annotation; " : ${inherited} != null ? "inherited from " + ${podFieldRef("spec.securityContext.appArmorProfile")} + "; " : "no profile is set on the container, its annotation or the pod, so the runtime applies runtime/default; ")`;

const checked = (e: string) => `${p}.checkOverridden == true ? (${e}) : []`;

export const cel: ControlCel = {
  variables: [
    { name: "appArmorAllowed", expression: `${p}.allowed.join(", ")` },
    {
      name: "overriddenWhy",
      expression: `"allowed AppArmor profiles: " + variables.appArmorAllowed + "; each of the pod's field, the container's field and its annotation is checked"`,
    },
    // Each container's effective profile, where it is set and the note about it, once.
    { name: "profiles", expression: containersWith({ profile, where, note, annotation: `${annotation} == null ? "" : ${annotation}` }) },
    {
      name: "effectiveFindings",
      expression: `${p}.checkOverridden != true ? variables.profiles.filter(ct, !${allowed("ct.profile")}).map(ct, ${splice(
        containerFinding("@where@", show.string("ct.profile"), "@why@"),
        { where: "ct.where", why: `ct.note + "allowed AppArmor profiles: " + variables.appArmorAllowed` },
      )}) : []`,
    },
    // checkOverridden (Pod Security Standards): every place a profile is set is checked on its own.
    {
      name: "fieldFindings",
      expression: checked(
        `variables.containers.filter(ct, ${own} != null && !${allowed(ownName)}).map(ct, ${splice(containerFinding(FIELD, show.string(ownName), "@why@"), { why: "variables.overriddenWhy" })})`,
      ),
    },
    // An empty annotation counts as unset, as in PSS.
    {
      name: "annotationFindings",
      expression: checked(
        `variables.profiles.filter(ct, ct.annotation != "" && !${allowed("string(ct.annotation)")}).map(ct, ${splice(
          containerFinding("@key@", show.string("string(ct.annotation)"), "@why@"),
          { key, why: "variables.overriddenWhy" },
        )})`,
      ),
    },
    // An annotation naming no container of the pod (the API refuses those; PSS checks them anyway).
    {
      name: "strayFindings",
      expression: checked(
        `variables.podChecked && has(variables.pod.metadata.annotations) ? ${annotations}.filter(k, k.startsWith(${JSON.stringify(PREFIX)}) && !variables.allContainers.exists(ct, ct.c.name == k.substring(${PREFIX.length})) && string(${annotations}[k]) != "" && !${allowed(`string(${annotations}[k])`)}).map(k, ${splice(
          podFinding("@key@", show.string(`string(${annotations}[k])`), "@why@"),
          { key: "k", why: "variables.overriddenWhy" },
        )}) : []`,
      ),
    },
    {
      name: "podFieldFindings",
      expression: checked(
        `variables.podChecked && ${inherited} != null && !${allowed(podName)} ? [${splice(podFinding(`spec.${FIELD}`, show.string(podName), "@why@"), { why: "variables.overriddenWhy" })}] : []`,
      ),
    },
    {
      name: "unsetFindings",
      expression: checked(
        `!${allowed('"runtime/default"')} && ${inherited} == null ? variables.profiles.filter(ct, ${own} == null && ct.annotation == "").map(ct, ${splice(
          containerFinding(FIELD, '"\\"runtime/default\\""', "@why@"),
          { why: `"no profile is set on the container, its annotation or the pod, so the runtime applies runtime/default; " + variables.overriddenWhy` },
        )}) : []`,
      ),
    },
    {
      name: "findings",
      expression:
        "variables.effectiveFindings + variables.fieldFindings + variables.annotationFindings + variables.strayFindings + variables.podFieldFindings + variables.unsetFindings",
    },
  ],
};
