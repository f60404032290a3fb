// The CEL twin of users-and-groups.rego (see ../cel.ts): the same findings, word for word. A
// container's value is its own securityContext field, else the pod's; it is computed once per
// container (with where it came from) since CEL has no local bindings. Values are shown as Rego's
// json.marshal shows them: ids as numbers, null when unset, strings quoted.
import { containerFinding, containersWith, field, podFieldRef, podFinding, splice, type ControlCel } from "../cel.ts";

const p = "variables.params";
const user = `${p}.runAsUser`;
const own = (key: string) => field("ct.c", `securityContext.${key}`);
const ofPod = (key: string) => field("variables.pod", `spec.securityContext.${key}`);
const value = (key: string) => `(${own(key)} != null ? ${own(key)} : ${ofPod(key)})`;
const from = (key: string) => `(${own(key)} != null ? "container" : ${ofPod(key)} != null ? "pod" : "unset")`;
/** Rego's origin(e, key), for the value computed as `ct.<name>` with `ct.<name>From`. */
const origin = (name: string, key: string) =>
  `(ct.${name}From == "pod" ? "inherited from " + ${podFieldRef(`spec.securityContext.${key}`)} + "; " : ct.${name}From == "unset" ? "${key} is set neither on the container nor on the pod; " : "")`;
/** json.marshal of a scalar (an id, a bool, null, or a string where a number belongs). */
const show = (e: string) => `(${e} == null ? "null" : type(${e}) == string ? "\\"" + string(${e}) + "\\"" : string(${e}))`;
const inRanges = (v: string, s: string) => `(type(${v}) == int && ${s}.ranges.exists(r, r.min <= ${v} && ${v} <= r.max))`;
const refused = (s: string, v: string) =>
  `((${s}.rule == "MustRunAs" && !${inRanges(v, s)}) || (${s}.rule == "MayRunAs" && ${v} != null && !${inRanges(v, s)}))`;
const rangesText = (s: string) => `${s}.ranges.map(r, r.min == r.max ? string(r.min) : string(r.min) + "-" + string(r.max)).join(", ")`;
const allowedGroups = (s: string) => `"allowed group ids: " + ${rangesText(s)} + " (rule " + ${s}.rule + ")"`;
const groups = ofPod("supplementalGroups");
const fsGroup = ofPod("fsGroup");
const why = (e: string) => ({ why: e });

export const cel: ControlCel = {
  variables: [
    // MustRunAsNonRoot applies, unless the pod runs in its own user namespace and exemptUserNamespaces says so.
    {
      name: "nonRootRule",
      expression: `${user}.rule == "MustRunAsNonRoot" && !(${user}.exemptUserNamespaces == true && ${field("variables.pod", "spec.hostUsers")} == false)`,
    },
    {
      name: "ids",
      expression: containersWith({
        uid: value("runAsUser"),
        uidFrom: from("runAsUser"),
        ownUid: own("runAsUser"),
        nonRoot: value("runAsNonRoot"),
        nonRootFrom: from("runAsNonRoot"),
        gid: value("runAsGroup"),
        gidFrom: from("runAsGroup"),
      }),
    },
    {
      name: "uidFindings",
      expression: `${user}.rule == "MustRunAs" ? variables.ids.filter(ct, !${inRanges("ct.uid", user)}).map(ct, ${splice(
        containerFinding("securityContext.runAsUser", show("ct.uid"), "@why@"),
        why(`${origin("uid", "runAsUser")} + "allowed user ids: " + ${rangesText(user)}`),
      )}) : []`,
    },
    // PodSecurityPolicy's MustRunAsNonRoot: a non-zero uid proves it too, unless requireRunAsNonRoot.
    {
      name: "nonRootFindings",
      expression: `variables.nonRootRule ? variables.ids.filter(ct, !(ct.nonRoot == true || (${user}.requireRunAsNonRoot != true && type(ct.uid) == int && ct.uid != 0))).map(ct, ${splice(
        containerFinding("securityContext.runAsNonRoot", show("ct.nonRoot"), "@why@"),
        why(
          `${origin("nonRoot", "runAsNonRoot")} + "the container must run as non-root: " + (${user}.requireRunAsNonRoot == true ? "runAsNonRoot true on the container, or on the pod and not false on the container" : "runAsNonRoot true, or a non-zero runAsUser, on the container or the pod")`,
        ),
      )}) : []`,
    },
    {
      name: "rootFindings",
      expression: `variables.nonRootRule ? variables.ids.filter(ct, ct.ownUid == 0).map(ct, ${containerFinding(
        "securityContext.runAsUser",
        '"0"',
        "user id 0 (root) is not allowed; any non-zero user id is",
      )}) : []`,
    },
    {
      name: "podUserFindings",
      expression: `(variables.nonRootRule && variables.podChecked && ${ofPod("runAsUser")} == 0 ? [${podFinding(
        "spec.securityContext.runAsUser",
        '"0"',
        "user id 0 (root) is not allowed for the pod; any non-zero user id is",
      )}] : []) + (variables.nonRootRule && ${user}.requireRunAsNonRoot == true && variables.podChecked && ${ofPod("runAsNonRoot")} == false ? [${podFinding(
        "spec.securityContext.runAsNonRoot",
        '"false"',
        "the pod must not set runAsNonRoot to false; set it to true or leave it unset and set true on every container",
      )}] : [])`,
    },
    {
      name: "gidFindings",
      expression: `variables.ids.filter(ct, ${refused(`${p}.runAsGroup`, "ct.gid")}).map(ct, ${splice(
        containerFinding("securityContext.runAsGroup", show("ct.gid"), "@why@"),
        why(`${origin("gid", "runAsGroup")} + ${allowedGroups(`${p}.runAsGroup`)}`),
      )})`,
    },
    {
      name: "groupsShown",
      expression: `${groups} == null ? "null" : type(${groups}) == list ? "[" + ${groups}.map(g, ${show("g")}).join(",") + "]" : ${show(groups)}`,
    },
    // The supplemental groups outside the ranges, as Rego's sprintf("%v") shows each (string() of an id).
    {
      name: "groupsOutside",
      expression: `${groups} != null && type(${groups}) == list ? ${groups}.filter(g, !${inRanges("g", `${p}.supplementalGroups`)}).map(g, string(g)) : []`,
    },
    {
      name: "groupFindings",
      expression: `(${p}.supplementalGroups.rule == "MustRunAs" && variables.podChecked && !(type(${groups}) == list && size(${groups}) > 0) ? [${splice(
        podFinding("spec.securityContext.supplementalGroups", "variables.groupsShown", "@why@"),
        why(`"at least one supplemental group is required; " + ${allowedGroups(`${p}.supplementalGroups`)}`),
      )}] : []) + (${p}.supplementalGroups.rule in ["MustRunAs", "MayRunAs"] && variables.podChecked && size(variables.groupsOutside) > 0 ? [${splice(
        podFinding("spec.securityContext.supplementalGroups", "variables.groupsShown", "@why@"),
        why(`"group ids " + variables.groupsOutside.join(", ") + " are outside the allowed ranges; " + ${allowedGroups(`${p}.supplementalGroups`)}`),
      )}] : [])`,
    },
    {
      name: "fsGroupFindings",
      expression: `variables.podChecked && ${refused(`${p}.fsGroup`, fsGroup)} ? [${splice(
        podFinding("spec.securityContext.fsGroup", show(fsGroup), "@why@"),
        why(`(${fsGroup} == null ? "fsGroup must be set; " : "") + ${allowedGroups(`${p}.fsGroup`)}`),
      )}] : []`,
    },
    {
      name: "findings",
      expression:
        "variables.uidFindings + variables.nonRootFindings + variables.rootFindings + variables.podUserFindings + variables.gidFindings + variables.groupFindings + variables.fsGroupFindings",
    },
  ],
};
