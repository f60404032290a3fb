# Gatehouse control proc-mount: what it checks and why is in README.md beside this file.
package gatehouseprocmount

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "proc-mount"

# Parameters: each read once, here; the renderer always sets every one.
allowed_proc_mount := input.parameters.allowed

any_in_user_namespace := input.parameters.anyInUserNamespace

findings contains f if {
	allowed_proc_mount == "Default"
	not user_namespace_exempt
	some ct in gh.containers
	pm := object.get(ct.container, ["securityContext", "procMount"], null)
	not pm in {null, "Default"}
	f := gh.container_finding(ct, "securityContext.procMount", pm, "only the Default proc mount type (or leaving procMount unset) is allowed")
}

# A pod in its own user namespace (hostUsers: false) unmasks /proc as an unprivileged user, not
# as the node's root: PSS baseline allows any procMount there (from v1.35 on).
user_namespace_exempt if {
	any_in_user_namespace == true
	gh.pod.spec.hostUsers == false
}
