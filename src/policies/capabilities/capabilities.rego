# Gatehouse control capabilities: what it checks and why is in README.md beside this file.
package gatehousecapabilities

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "capabilities"

# Parameters: each read once, here; the renderer always sets every one.
allowed_add := input.parameters.allowedAdd

required_drop := input.parameters.requiredDrop

exact_names := input.parameters.exactNames

findings contains f if {
	some ct in gh.containers
	some cap in object.get(ct.container, ["securityContext", "capabilities", "add"], [])
	not add_allowed(normalise(cap))
	f := gh.container_finding(ct, "securityContext.capabilities.add", cap, add_why)
}

# One finding per container: the value is the container's own drop list (null when unset), the
# reason names every required entry it lacks.
findings contains f if {
	not gh.windows_pod # Windows pods cannot set capabilities at all
	some ct in gh.containers
	missing := [cap | some cap in required_drop; not dropped(ct, cap)]
	count(missing) > 0
	drop := object.get(ct.container, ["securityContext", "capabilities", "drop"], null)
	why := sprintf("%s missing from it; every container must drop %s (drop ALL satisfies every entry)", [missing_phrase(missing), concat(", ", required_drop)])
	f := gh.container_finding(ct, "securityContext.capabilities.drop", drop, why)
}

# CAP_NET_ADMIN, cap_net_admin and NET_ADMIN name the same capability to a container runtime;
# with exactNames (as the Pod Security Standards compare) only NET_ADMIN is NET_ADMIN.
normalise(cap) := cap if {
	exact_names == true
	is_string(cap)
} else := trim_prefix(upper(trim_space(cap)), "CAP_") if {
	is_string(cap)
} else := sprintf("%v", [cap])

# allowedAdd [ALL] admits anything; adding ALL itself needs allowedAdd [ALL].
add_allowed(_) if {
	"ALL" in allowed_add
}

add_allowed(cap) if {
	cap in allowed_add
}

dropped(ct, cap) if {
	some d in object.get(ct.container, ["securityContext", "capabilities", "drop"], [])
	normalise(d) in {cap, "ALL"}
}

missing_phrase(missing) := sprintf("%s is", [missing[0]]) if {
	count(missing) == 1
} else := sprintf("%s are", [concat(", ", missing)])

add_why := "no capabilities may be added" if {
	count(allowed_add) == 0
} else := sprintf("capabilities that may be added: %s", [concat(", ", allowed_add)])
