# Gatehouse control host-namespaces: what it checks and why is in README.md beside this file.
package gatehousehostnamespaces

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "host-namespaces"

# Parameters: each read once, here; the renderer always sets every one.
allow_host_pid := input.parameters.allowHostPID

allow_host_ipc := input.parameters.allowHostIPC

findings contains f if {
	gh.pod_checked
	gh.pod.spec.hostPID == true
	not allow_host_pid
	f := gh.pod_finding("spec.hostPID", true, "sharing the host PID namespace is not allowed (allowHostPID is false)")
}

findings contains f if {
	gh.pod_checked
	gh.pod.spec.hostIPC == true
	not allow_host_ipc
	f := gh.pod_finding("spec.hostIPC", true, "sharing the host IPC namespace is not allowed (allowHostIPC is false)")
}
