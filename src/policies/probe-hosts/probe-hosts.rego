# Gatehouse control probe-hosts: what it checks and why is in README.md beside this file.
package gatehouseprobehosts

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "probe-hosts"

# Parameters: each read once, here; the renderer always sets every one.
allowed_hosts := input.parameters.allowedHosts

probe_kinds := ["livenessProbe", "readinessProbe", "startupProbe"]

hook_kinds := ["postStart", "preStop"]

handler_kinds := ["httpGet", "tcpSocket"]

findings contains f if {
	some ct in gh.containers
	some probe in probe_kinds
	some handler in handler_kinds
	host := ct.container[probe][handler].host
	not host_allowed(host)
	f := gh.container_finding(ct, sprintf("%s.%s.host", [probe, handler]), host, hosts_why)
}

findings contains f if {
	some ct in gh.containers
	some hook in hook_kinds
	some handler in handler_kinds
	host := ct.container.lifecycle[hook][handler].host
	not host_allowed(host)
	f := gh.container_finding(ct, sprintf("lifecycle.%s.%s.host", [hook, handler]), host, hosts_why)
}

# Unset, null and "" all mean the pod's own IP.
host_allowed(host) if host == ""

host_allowed(host) if host == null

host_allowed(host) if {
	is_string(host)
	lower(host) in allowed_hosts
}

hosts_why := "the host must be unset (the pod's own IP)" if {
	count(allowed_hosts) == 0
} else := sprintf("the host must be unset (the pod's own IP) or one of: %s", [concat(", ", allowed_hosts)])
