# Gatehouse control privileged-containers: what it checks and why is in README.md beside this file.
package gatehouseprivilegedcontainers

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "privileged-containers"

findings contains f if {
	some ct in gh.containers
	ct.container.securityContext.privileged == true
	f := gh.container_finding(ct, "securityContext.privileged", true, "privileged containers are not allowed")
}
