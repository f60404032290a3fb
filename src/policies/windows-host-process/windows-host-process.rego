# Gatehouse control windows-host-process: what it checks and why is in README.md beside this file.
package gatehousewindowshostprocess

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "windows-host-process"

findings contains f if {
	gh.pod_checked
	gh.pod.spec.securityContext.windowsOptions.hostProcess == true
	f := gh.pod_finding("spec.securityContext.windowsOptions.hostProcess", true, why)
}

findings contains f if {
	some ct in gh.containers
	ct.container.securityContext.windowsOptions.hostProcess == true
	f := gh.container_finding(ct, "securityContext.windowsOptions.hostProcess", true, why)
}

why := "Windows HostProcess containers have full access to the node and are not allowed"
