# Gatehouse control seccomp: what it checks and why is in README.md beside this file.
package gatehouseseccomp

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "seccomp"

# Parameters: each read once, here; the renderer always sets every one.
allowed_seccomp := input.parameters.allowed

allow_unset := input.parameters.allowUnset

check_overridden := input.parameters.checkOverridden

findings contains f if {
	some ct in gh.containers
	p := seccomp_profile(ct)
	not overridden_mode_pod_profile(p)
	not seccomp_allowed(p.profile)
	why := sprintf("%sallowed seccomp profiles: %s; %s", [p.note, allowed_text, unset_text])
	f := gh.container_finding(ct, "securityContext.seccompProfile", p.profile, why)
}

# checkOverridden (Pod Security Standards): the pod's own profile is checked as a pod finding, even
# where every container overrides it, so a container's finding about the inherited profile would
# say the same thing twice.
findings contains f if {
	check_overridden == true
	gh.pod_checked
	v := object.get(gh.pod, ["spec", "securityContext", "seccompProfile"], null)
	v != null
	p := seccomp_name(v)
	not seccomp_allowed(p)
	why := sprintf("allowed seccomp profiles: %s; the pod's profile is checked even where containers set their own", [allowed_text])
	f := gh.pod_finding("spec.securityContext.seccompProfile", p, why)
}

overridden_mode_pod_profile(p) if {
	check_overridden == true
	p.from == "pod"
}

seccomp_profile(ct) := {"profile": seccomp_name(v), "note": "", "from": "container"} if {
	v := object.get(ct.container, ["securityContext", "seccompProfile"], null)
	v != null
} else := {"profile": seccomp_name(v), "note": inherited_note, "from": "pod"} if {
	v := object.get(gh.pod, ["spec", "securityContext", "seccompProfile"], null)
	v != null
} else := {"profile": null, "note": "no seccompProfile is set on the container or the pod; ", "from": "unset"}

# In a workload the pod template's field, by its path there (common/gatehouse.rego pod_field_ref).
inherited_note := sprintf("inherited from %s; ", [gh.pod_field_ref("spec.securityContext.seccompProfile")])

# {type, localhostProfile} as one string: RuntimeDefault, Unconfined, Localhost/<file>.
seccomp_name(p) := concat("", ["Localhost/", object.get(p, "localhostProfile", "")]) if {
	p.type == "Localhost"
} else := p.type if {
	is_string(p.type)
} else := sprintf("%v", [p])

seccomp_allowed(null) if {
	allow_unset == true
}

# Windows pods cannot set a seccomp profile at all.
seccomp_allowed(null) if gh.windows_pod

seccomp_allowed(p) if {
	is_string(p)
	gh.matches_any(allowed_seccomp, p)
}

allowed_text := "none" if {
	count(allowed_seccomp) == 0
} else := concat(", ", allowed_seccomp)

unset_text := "unset is allowed" if {
	allow_unset == true
} else := "a profile must be set (unset runs Unconfined unless the kubelet enables SeccompDefault)"
