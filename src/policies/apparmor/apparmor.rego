# Gatehouse control apparmor: what it checks and why is in README.md beside this file.
package gatehouseapparmor

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "apparmor"

# Parameters: each read once, here; the renderer always sets every one.
allowed_apparmor := input.parameters.allowed

check_overridden := input.parameters.checkOverridden

annotation_prefix := "container.apparmor.security.beta.kubernetes.io/"

findings contains f if {
	check_overridden != true
	some ct in gh.containers
	p := apparmor_profile(ct)
	not gh.matches_any(allowed_apparmor, p.profile)
	why := sprintf("%sallowed AppArmor profiles: %s", [p.note, concat(", ", allowed_apparmor)])
	f := gh.container_finding(ct, p.field, p.profile, why)
}

# Precedence as the kubelet applies it: container field, container annotation, pod field.
apparmor_profile(ct) := {"profile": profile_name(v), "field": "securityContext.appArmorProfile", "note": ""} if {
	v := object.get(ct.container, ["securityContext", "appArmorProfile"], null)
	v != null
} else := {"profile": sprintf("%v", [v]), "field": key, "note": "set by the pod annotation; "} if {
	key := concat("", [annotation_prefix, ct.container.name])
	v := object.get(gh.pod, ["metadata", "annotations", key], null)
	v != null
} else := {
	"profile": profile_name(v),
	"field": "securityContext.appArmorProfile",
	"note": sprintf("inherited from %s; ", [gh.pod_field_ref("spec.securityContext.appArmorProfile")]),
} if {
	v := object.get(gh.pod, ["spec", "securityContext", "appArmorProfile"], null)
	v != null
} else := {
	"profile": "runtime/default",
	"field": "securityContext.appArmorProfile",
	"note": "no profile is set on the container, its annotation or the pod, so the runtime applies runtime/default; ",
}

# The field's {type, localhostProfile} in the annotation's spelling.
profile_name(p) := "runtime/default" if {
	p.type == "RuntimeDefault"
} else := "unconfined" if {
	p.type == "Unconfined"
} else := concat("", ["localhost/", object.get(p, "localhostProfile", "")]) if {
	p.type == "Localhost"
} else := sprintf("%v", [p])

# checkOverridden (Pod Security Standards): every place a profile is set is checked on its own,
# the pod's field, each container's field and each container annotation, even where a more
# specific one overrides it; a container that sets none runs under runtime/default. An empty
# annotation counts as unset, as in PSS.
findings contains f if {
	check_overridden == true
	some ct in gh.containers
	v := object.get(ct.container, ["securityContext", "appArmorProfile"], null)
	v != null
	p := profile_name(v)
	not gh.matches_any(allowed_apparmor, p)
	f := gh.container_finding(ct, "securityContext.appArmorProfile", p, overridden_why)
}

findings contains f if {
	check_overridden == true
	some ct in gh.containers
	key := concat("", [annotation_prefix, ct.container.name])
	v := object.get(gh.pod, ["metadata", "annotations", key], "")
	v != ""
	not gh.matches_any(allowed_apparmor, sprintf("%v", [v]))
	f := gh.container_finding(ct, key, v, overridden_why)
}

# An annotation naming no container of the pod (the API refuses those; PSS checks them anyway).
findings contains f if {
	check_overridden == true
	gh.pod_checked
	some key, v in object.get(gh.pod, ["metadata", "annotations"], {})
	startswith(key, annotation_prefix)
	not trim_prefix(key, annotation_prefix) in {ct.container.name | some ct in gh.all_containers}
	v != ""
	not gh.matches_any(allowed_apparmor, sprintf("%v", [v]))
	f := gh.pod_finding(key, v, overridden_why)
}

findings contains f if {
	check_overridden == true
	gh.pod_checked
	v := object.get(gh.pod, ["spec", "securityContext", "appArmorProfile"], null)
	v != null
	p := profile_name(v)
	not gh.matches_any(allowed_apparmor, p)
	f := gh.pod_finding("spec.securityContext.appArmorProfile", p, overridden_why)
}

findings contains f if {
	check_overridden == true
	not gh.matches_any(allowed_apparmor, "runtime/default")
	some ct in gh.containers
	object.get(ct.container, ["securityContext", "appArmorProfile"], null) == null
	object.get(gh.pod, ["metadata", "annotations", concat("", [annotation_prefix, ct.container.name])], "") == ""
	object.get(gh.pod, ["spec", "securityContext", "appArmorProfile"], null) == null
	why := sprintf("no profile is set on the container, its annotation or the pod, so the runtime applies runtime/default; %s", [overridden_why])
	f := gh.container_finding(ct, "securityContext.appArmorProfile", "runtime/default", why)
}

overridden_why := sprintf("allowed AppArmor profiles: %s; each of the pod's field, the container's field and its annotation is checked", [concat(", ", allowed_apparmor)])
