# Gatehouse control privilege-escalation: what it checks and why is in README.md beside this file.
package gatehouseprivilegeescalation

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "privilege-escalation"

findings contains f if {
	not gh.windows_pod
	some ct in gh.containers
	v := object.get(ct.container, ["securityContext", "allowPrivilegeEscalation"], null)
	v != false
	f := gh.container_finding(ct, "securityContext.allowPrivilegeEscalation", v, "it must be set to false (unset allows escalation through setuid binaries and file capabilities)")
}
