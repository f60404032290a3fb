# Gatehouse control volume-types: what it checks and why is in README.md beside this file.
package gatehousevolumetypes

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "volume-types"

# Parameters: each read once, here; the renderer always sets every one.
allowed_volume_types := input.parameters.allowed

# A volume's type is its source key: every key besides "name" (the API allows exactly one).
# The finding is that source (spec.volumes[i].<type>, with its settings as the value); the reason
# names the volume and its type.
findings contains f if {
	gh.pod_checked
	not "*" in allowed_volume_types
	some i, v in object.get(gh.pod, ["spec", "volumes"], [])
	some vtype, source in v
	vtype != "name"
	not vtype in allowed_volume_types
	why := sprintf("volume %q is of type %s; %s", [object.get(v, "name", ""), vtype, volume_types_why])
	f := gh.pod_finding(sprintf("spec.volumes[%d].%s", [i, vtype]), source, why)
}

volume_types_why := "no volumes are allowed" if {
	count(allowed_volume_types) == 0
} else := sprintf("allowed volume types: %s", [concat(", ", allowed_volume_types)])
