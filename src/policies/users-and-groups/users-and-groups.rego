# Gatehouse control users-and-groups: what it checks and why is in README.md beside this file.
package gatehouseusersandgroups

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "users-and-groups"

# Parameters: each read once, here; the renderer always sets every one.
run_as_user := input.parameters.runAsUser

run_as_group := input.parameters.runAsGroup

supplemental_groups := input.parameters.supplementalGroups

fs_group := input.parameters.fsGroup

# --- runAsUser ---------------------------------------------------------------------------------

findings contains f if {
	run_as_user.rule == "MustRunAs"
	some ct in gh.containers
	e := effective(ct, "runAsUser")
	not in_ranges(e.value, run_as_user.ranges)
	why := sprintf("%sallowed user ids: %s", [origin(e, "runAsUser"), ranges_text(run_as_user.ranges)])
	f := gh.container_finding(ct, "securityContext.runAsUser", e.value, why)
}

findings contains f if {
	non_root_rule
	some ct in gh.containers
	not runs_as_non_root(ct)
	e := effective(ct, "runAsNonRoot")
	why := sprintf("%sthe container must run as non-root: %s", [origin(e, "runAsNonRoot"), non_root_proof])
	f := gh.container_finding(ct, "securityContext.runAsNonRoot", e.value, why)
}

findings contains f if {
	non_root_rule
	some ct in gh.containers
	object.get(ct.container, ["securityContext", "runAsUser"], null) == 0
	f := gh.container_finding(ct, "securityContext.runAsUser", 0, "user id 0 (root) is not allowed; any non-zero user id is")
}

findings contains f if {
	non_root_rule
	gh.pod_checked
	object.get(gh.pod, ["spec", "securityContext", "runAsUser"], null) == 0
	f := gh.pod_finding("spec.securityContext.runAsUser", 0, "user id 0 (root) is not allowed for the pod; any non-zero user id is")
}

# requireRunAsNonRoot (Pod Security Standards): the pod must not say runAsNonRoot: false either,
# even where every container says true.
findings contains f if {
	non_root_rule
	run_as_user.requireRunAsNonRoot == true
	gh.pod_checked
	object.get(gh.pod, ["spec", "securityContext", "runAsNonRoot"], null) == false
	f := gh.pod_finding("spec.securityContext.runAsNonRoot", false, "the pod must not set runAsNonRoot to false; set it to true or leave it unset and set true on every container")
}

# MustRunAsNonRoot applies, unless the pod runs in its own user namespace (hostUsers: false, where
# uid 0 in the container is an unprivileged uid on the node) and exemptUserNamespaces says so.
non_root_rule if {
	run_as_user.rule == "MustRunAsNonRoot"
	not user_namespace_exempt
}

user_namespace_exempt if {
	run_as_user.exemptUserNamespaces == true
	gh.pod.spec.hostUsers == false
}

runs_as_non_root(ct) if {
	e := effective(ct, "runAsNonRoot")
	e.value == true
}

# PodSecurityPolicy's MustRunAsNonRoot: a non-zero uid proves it too (the kubelet runs that uid).
runs_as_non_root(ct) if {
	run_as_user.requireRunAsNonRoot != true
	uid := effective(ct, "runAsUser").value
	is_number(uid)
	uid != 0
}

non_root_proof := "runAsNonRoot true on the container, or on the pod and not false on the container" if {
	run_as_user.requireRunAsNonRoot == true
} else := "runAsNonRoot true, or a non-zero runAsUser, on the container or the pod"

# --- runAsGroup, supplementalGroups, fsGroup ---------------------------------------------------

findings contains f if {
	s := run_as_group
	some ct in gh.containers
	e := effective(ct, "runAsGroup")
	id_refused(s.rule, e.value, s.ranges)
	why := sprintf("%s%s", [origin(e, "runAsGroup"), allowed_groups(s)])
	f := gh.container_finding(ct, "securityContext.runAsGroup", e.value, why)
}

findings contains f if {
	s := supplemental_groups
	s.rule == "MustRunAs"
	gh.pod_checked
	not has_supplemental_groups
	groups := object.get(gh.pod, ["spec", "securityContext", "supplementalGroups"], null)
	why := sprintf("at least one supplemental group is required; %s", [allowed_groups(s)])
	f := gh.pod_finding("spec.securityContext.supplementalGroups", groups, why)
}

findings contains f if {
	s := supplemental_groups
	s.rule in {"MustRunAs", "MayRunAs"}
	gh.pod_checked
	groups := object.get(gh.pod, ["spec", "securityContext", "supplementalGroups"], [])
	outside := [sprintf("%v", [g]) | some g in groups; not in_ranges(g, s.ranges)]
	count(outside) > 0
	why := sprintf("group ids %s are outside the allowed ranges; %s", [concat(", ", outside), allowed_groups(s)])
	f := gh.pod_finding("spec.securityContext.supplementalGroups", groups, why)
}

findings contains f if {
	s := fs_group
	gh.pod_checked
	v := object.get(gh.pod, ["spec", "securityContext", "fsGroup"], null)
	id_refused(s.rule, v, s.ranges)
	why := sprintf("%s%s", [unset_note(v, "fsGroup"), allowed_groups(s)])
	f := gh.pod_finding("spec.securityContext.fsGroup", v, why)
}

has_supplemental_groups if {
	groups := gh.pod.spec.securityContext.supplementalGroups
	is_array(groups)
	count(groups) > 0
}

# --- helpers -----------------------------------------------------------------------------------

# The value a container runs with: its own securityContext field, else the pod's.
effective(ct, key) := {"value": v, "from": "container"} if {
	v := object.get(ct.container, ["securityContext", key], null)
	v != null
} else := {"value": v, "from": "pod"} if {
	v := object.get(gh.pod, ["spec", "securityContext", key], null)
	v != null
} else := {"value": null, "from": "unset"}

# In a workload the pod template's field, by its path there (common/gatehouse.rego pod_field_ref).
origin(e, key) := sprintf("inherited from %s; ", [gh.pod_field_ref(concat("", ["spec.securityContext.", key]))]) if {
	e.from == "pod"
} else := sprintf("%s is set neither on the container nor on the pod; ", [key]) if {
	e.from == "unset"
} else := ""

unset_note(v, key) := sprintf("%s must be set; ", [key]) if {
	v == null
} else := ""

id_refused("MustRunAs", v, ranges) if {
	not in_ranges(v, ranges)
}

id_refused("MayRunAs", v, ranges) if {
	v != null
	not in_ranges(v, ranges)
}

in_ranges(id, ranges) if {
	is_number(id)
	some r in ranges
	r.min <= id
	id <= r.max
}

allowed_groups(s) := sprintf("allowed group ids: %s (rule %s)", [ranges_text(s.ranges), s.rule])

ranges_text(ranges) := concat(", ", [range_text(r) | some r in ranges])

range_text(r) := sprintf("%d", [r.min]) if {
	r.min == r.max
} else := sprintf("%d-%d", [r.min, r.max])
