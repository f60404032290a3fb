# Gatehouse control sysctls: what it checks and why is in README.md beside this file.
package gatehousesysctls

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "sysctls"

# Parameters: each read once, here; the renderer always sets every one.
forbidden_sysctls := input.parameters.forbidden

safe_sysctls := input.parameters.safeSysctls

allowed_unsafe := input.parameters.allowedUnsafe

exact_names := input.parameters.exactNames

findings contains f if {
	gh.pod_checked
	some i, s in object.get(gh.pod, ["spec", "securityContext", "sysctls"], [])
	name := sysctl_name(s.name)
	matched := [g | some g in forbidden_sysctls; gh.matches(g, name)]
	count(matched) > 0
	why := sprintf("forbidden by %s; %s", [concat(", ", [sprintf("%q", [g]) | some g in matched]), allowed_text("")])
	f := gh.pod_finding(sprintf("spec.securityContext.sysctls[%d].name", [i]), s.name, why)
}

findings contains f if {
	gh.pod_checked
	some i, s in object.get(gh.pod, ["spec", "securityContext", "sysctls"], [])
	name := sysctl_name(s.name)
	not gh.matches_any(forbidden_sysctls, name)
	not name in {n | some n in safe_sysctls}
	not gh.matches_any(allowed_unsafe, name)
	safe := sprintf(" (%s)", [concat(", ", safe_sysctls)])
	why := sprintf("it is neither a Kubernetes safe sysctl nor an allowed unsafe one; %s", [allowed_text(safe)])
	f := gh.pod_finding(sprintf("spec.securityContext.sysctls[%d].name", [i]), s.name, why)
}

allowed_text(safe) := sprintf("allowed: the Kubernetes safe sysctls%s%s%s", [safe, unsafe_part, forbidden_part])

unsafe_part := "" if {
	count(allowed_unsafe) == 0
} else := sprintf(" and %s", [concat(", ", allowed_unsafe)])

forbidden_part := "" if {
	count(forbidden_sysctls) == 0
} else := sprintf(", except %s", [concat(", ", forbidden_sysctls)])

# exactNames (Pod Security Standards): the name as written. Otherwise in dot form, see below.
sysctl_name(name) := name if {
	exact_names == true
} else := normalised(name)

# Sysctl names may use / as the separator (net/ipv4/conf/eth0.100/rp_filter); in that form
# dots belong to a segment. Kubernetes treats both forms alike, so compare in dot form.
normalised(name) := strings.replace_n({".": "/", "/": "."}, name) if {
	slash := indexof(name, "/")
	slash >= 0
	dot := indexof(name, ".")
	dot_after_slash(dot, slash)
} else := name

dot_after_slash(dot, _) if dot < 0

dot_after_slash(dot, slash) if slash < dot
