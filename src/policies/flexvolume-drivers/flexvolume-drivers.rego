# Gatehouse control flexvolume-drivers: what it checks and why is in README.md beside this file.
package gatehouseflexvolumedrivers

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "flexvolume-drivers"

# Parameters: each read once, here; the renderer always sets every one.
allowed_flex_drivers := input.parameters.allowed

# A flexVolume without a driver gets "" and is refused (fail closed).
findings contains f if {
	gh.pod_checked
	some i, v in object.get(gh.pod, ["spec", "volumes"], [])
	is_object(v.flexVolume)
	driver := object.get(v.flexVolume, "driver", "")
	not driver in allowed_flex_drivers
	f := gh.pod_finding(sprintf("spec.volumes[%d].flexVolume.driver", [i]), driver, flex_drivers_why)
}

flex_drivers_why := "no flexVolume drivers are allowed" if {
	count(allowed_flex_drivers) == 0
} else := sprintf("allowed flexVolume drivers: %s", [concat(", ", allowed_flex_drivers)])
