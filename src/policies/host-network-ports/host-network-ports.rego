# Gatehouse control host-network-ports: what it checks and why is in README.md beside this file.
package gatehousehostnetworkports

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "host-network-ports"

# Parameters: each read once, here; the renderer always sets every one.
allowed_host_ports := input.parameters.hostPorts

allow_host_network := input.parameters.allowHostNetwork

findings contains f if {
	gh.pod_checked
	gh.pod.spec.hostNetwork == true
	not allow_host_network
	f := gh.pod_finding("spec.hostNetwork", true, "sharing the host network namespace is not allowed (allowHostNetwork is false)")
}

# hostPort 0 or unset means "no host port" and is always fine.
findings contains f if {
	some ct in gh.containers
	some i, p in object.get(ct.container, "ports", [])
	port := object.get(p, "hostPort", 0)
	port != 0
	not host_port_allowed(port)
	f := gh.container_finding(ct, sprintf("ports[%d].hostPort", [i]), port, host_ports_why)
}

host_port_allowed(port) if {
	some r in allowed_host_ports
	r.min <= port
	port <= r.max
}

host_ports_why := "no host ports are allowed" if {
	count(allowed_host_ports) == 0
} else := sprintf("allowed host port ranges: %s", [concat(", ", [port_range(r) | some r in allowed_host_ports])])

port_range(r) := sprintf("%d", [r.min]) if {
	r.min == r.max
} else := sprintf("%d-%d", [r.min, r.max])
