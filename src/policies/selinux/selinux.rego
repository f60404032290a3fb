# Gatehouse control selinux: what it checks and why is in README.md beside this file.
package gatehouseselinux

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "selinux"

# Parameters: each read once, here; the renderer always sets every one.
allowed_selinux := input.parameters.allowed

findings contains f if {
	gh.pod_checked
	opts := object.get(gh.pod, ["spec", "securityContext", "seLinuxOptions"], null)
	selinux_refused(opts)
	f := gh.pod_finding("spec.securityContext.seLinuxOptions", opts, selinux_why)
}

findings contains f if {
	some ct in gh.containers
	opts := object.get(ct.container, ["securityContext", "seLinuxOptions"], null)
	selinux_refused(opts)
	f := gh.container_finding(ct, "securityContext.seLinuxOptions", opts, selinux_why)
}

selinux_fields := ["user", "role", "type", "level"]

# seLinuxOptions that set nothing override nothing, so they are always allowed.
selinux_refused(opts) if {
	some k in selinux_fields
	selinux_option(opts, k) != ""
	not selinux_matched(opts)
}

# A field the pod omits, sets to null or sets to "" is unset ("").
selinux_option(opts, k) := "" if {
	not is_object(opts)
} else := "" if {
	object.get(opts, k, null) == null
} else := v if {
	v := opts[k]
	is_string(v)
} else := sprintf("%v", [opts[k]])

selinux_matched(opts) if {
	some e in allowed_selinux
	not entry_mismatch(e, opts)
}

# An entry's field: "*" matches anything; an omitted field ("") requires the pod's to be unset.
entry_mismatch(e, opts) if {
	some k in selinux_fields
	want := object.get(e, k, "")
	want != "*"
	want != selinux_option(opts, k)
}

selinux_why := "seLinuxOptions may not set user, role, type or level" if {
	count(allowed_selinux) == 0
} else := sprintf("allowed seLinuxOptions (a field not listed must be unset, * is any value): %s", [
	concat(", ", [entry_text(e) | some e in allowed_selinux]),
])

entry_text(e) := sprintf("{%s}", [concat(", ", [sprintf("%s: %s", [k, e[k]]) | some k in selinux_fields; e[k]])])
