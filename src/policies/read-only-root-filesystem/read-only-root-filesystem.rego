# Gatehouse control read-only-root-filesystem: what it checks and why is in README.md beside this file.
package gatehousereadonlyrootfilesystem

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "read-only-root-filesystem"

findings contains f if {
	not gh.windows_pod
	some ct in gh.containers
	value := object.get(ct.container, ["securityContext", "readOnlyRootFilesystem"], null)
	value != true
	f := gh.container_finding(ct, "securityContext.readOnlyRootFilesystem", value, read_only_why)
}

read_only_why := "the root filesystem must be read-only (set it to true; write to an emptyDir or other volume instead)"
