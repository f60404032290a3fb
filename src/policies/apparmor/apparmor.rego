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

findings contains f if {
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
	key := concat("", ["container.apparmor.security.beta.kubernetes.io/", ct.container.name])
	v := object.get(gh.pod, ["metadata", "annotations", key], null)
	v != null
} else := {
	"profile": profile_name(v),
	"field": "securityContext.appArmorProfile",
	"note": "inherited from the pod's spec.securityContext.appArmorProfile; ",
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
