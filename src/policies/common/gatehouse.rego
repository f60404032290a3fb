# The Rego library every Gatehouse template carries (ConstraintTemplate `libs`). It walks every
# container kind, applies image exemptions, and phrases findings the same way for all controls,
# so a denied user always sees pod (or workload), container, field, value and how to exempt.
package lib.gatehouse

import rego.v1

import data.lib.gatehouse_workloads

pod := input.review.object

container_kinds := ["containers", "initContainers", "ephemeralContainers"]

# Admission reviews carry the namespace even when the object's metadata omits it.
namespace := ns if {
	ns := input.review.namespace
	ns != ""
} else := object.get(pod, ["metadata", "namespace"], "")

# Pods made from a workload template (Gatekeeper expansion) or with generateName may lack a name.
pod_name := n if {
	n := pod.metadata.name
	n != ""
} else := concat("", [pod.metadata.generateName, "*"]) if {
	pod.metadata.generateName != ""
} else := "<unnamed>"

pod_ref := sprintf("%s/%s", [namespace, pod_name]) if {
	namespace != ""
} else := pod_name

# The workload whose pod template this is, when Gatekeeper's expansion (pkg/expansion, v3.23)
# made the pod: it names it lower("<workload>-pod") and appends the ownerReference
# {apiVersion, kind, name} of the workload, with no uid. The API server admits no pod whose
# ownerReferences lack a uid, so a controller's pod (web-7d9f8-x2k4z, owned by ReplicaSet
# web-7d9f8 with its uid) is never taken for one. `prefix` is where the pod template sits in the
# workload, from the ExpansionTemplates (lib.gatehouse_workloads, rendered from workload-paths.ts).
workload := expanded[0] if {
	expanded := [w |
		some ref in object.get(pod, ["metadata", "ownerReferences"], [])
		object.get(ref, "uid", "") == ""
		lower(concat("", [ref.name, "-pod"])) == pod.metadata.name
		prefix := gatehouse_workloads.pod_template_paths[concat("/", [ref.apiVersion, ref.kind])]
		w := {"kind": ref.kind, "name": ref.name, "prefix": prefix}
	]
	count(expanded) > 0
}

# Who a finding is about: `pod ns/name`, or `Deployment ns/name` for a workload's pod template.
subject := sprintf("%s %s", [workload.kind, qualified(workload.name)]) if {
	workload
} else := sprintf("pod %s", [pod_ref])

qualified(name) := sprintf("%s/%s", [namespace, name]) if {
	namespace != ""
} else := name

# A container's place: `containers[0]` in a pod, `spec.template.spec.containers[0]` in a workload.
container_path(ct) := sprintf("%sspec.%s[%d]", [workload.prefix, ct.kind, ct.index]) if {
	workload
} else := sprintf("%s[%d]", [ct.kind, ct.index])

# A pod field's path (`spec.hostPID`) in the workload (`spec.template.spec.hostPID`); a field that
# is no path in the pod (an annotation key) is shown as it is.
pod_field_path(field) := concat("", [workload.prefix, field]) if {
	workload
	pod_relative(field)
} else := field

# A pod field named in a finding's reason (where a container's value was inherited from):
# `the pod's spec.securityContext.runAsUser`, or in a workload `the pod template's
# spec.template.spec.securityContext.runAsUser`, its path in the workload (pod_field_path).
pod_field_ref(field) := sprintf("the pod template's %s", [pod_field_path(field)]) if {
	workload
} else := sprintf("the pod's %s", [field])

pod_relative(field) if startswith(field, "spec.")

pod_relative(field) if startswith(field, "metadata.")

all_containers contains {"kind": kind, "index": i, "container": c} if {
	some kind in container_kinds
	some i, c in object.get(pod, ["spec", kind], [])
}

# Containers this control checks: every kind, minus exempt images.
containers contains ct if {
	some ct in all_containers
	not image_exempt(object.get(ct.container, "image", ""))
}

# Pod-level fields are checked unless every container's image is exempt.
pod_checked if {
	some ct in all_containers
	not image_exempt(object.get(ct.container, "image", ""))
}

# Linux-only fields (seccomp, capabilities, allowPrivilegeEscalation, readOnlyRootFilesystem):
# the API refuses them on Windows pods, so checks that require them skip Windows pods, as the
# Pod Security Standards do.
windows_pod if pod.spec.os.name == "windows"

# The only parameter every control has; the renderer always sets it (empty when none).
exempt_images := input.parameters.exemptImages

image_exempt(image) if {
	some p in exempt_images
	matches(p, image)
}

# A pattern is exact, or ends in * to match a prefix.
matches(p, s) if {
	not endswith(p, "*")
	p == s
}

matches(p, s) if {
	endswith(p, "*")
	startswith(s, trim_suffix(p, "*"))
}

matches_any(patterns, s) if {
	some p in patterns
	matches(p, s)
}

show(value) := json.marshal(value)

# A finding about one container's field (value is what the pod asked for).
container_finding(ct, field, value, why) := {
	"text": sprintf("%s: %s %q (%s, image %s): %s is %s; %s.", [
		subject, container_word(ct.kind), ct.container.name, container_path(ct),
		object.get(ct.container, "image", "<none>"), field, show(value), why,
	]),
	"image": object.get(ct.container, "image", ""),
	"details": {"container": ct.container.name, "containerKind": ct.kind, "field": field, "value": value},
}

# A finding about a pod-level field.
pod_finding(field, value, why) := {
	"text": sprintf("%s: %s is %s; %s.", [subject, pod_field_path(field), show(value), why]),
	"image": "",
	"details": {"field": field, "value": value},
}

container_word("initContainers") := "init container"

container_word("ephemeralContainers") := "ephemeral container"

container_word("containers") := "container"

# The closing hint: how to get past this control without disabling it.
message(f, control) := sprintf("%s To allow it, exempt namespace %q or image %q in Gatehouse control %s.", [f.text, namespace, f.image, control]) if {
	f.image != ""
} else := sprintf("%s To allow it, exempt namespace %q in Gatehouse control %s.", [f.text, namespace, control])
