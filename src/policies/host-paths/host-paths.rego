# Gatehouse control host-paths: what it checks and why is in README.md beside this file.
package gatehousehostpaths

import rego.v1

import data.lib.gatehouse as gh

# Every finding becomes a violation with the shared exemption hint (common/gatehouse.rego).
violation contains {"msg": gh.message(f, control), "details": f.details} if {
	some f in findings
}

control := "host-paths"

# Parameters: each read once, here; the renderer always sets every one.
allowed_host_paths := input.parameters.allowed

# A hostPath without a path gets "" and is refused (fail closed).
host_path_volumes contains {"index": i, "name": object.get(v, "name", ""), "path": object.get(v.hostPath, "path", "")} if {
	some i, v in object.get(gh.pod, ["spec", "volumes"], [])
	is_object(v.hostPath)
}

# Entries whose prefix covers the path, per segment. A path with a ".." segment escapes any
# prefix, so nothing covers it (the API server refuses it too).
covering(path) := [e |
	some e in allowed_host_paths
	not ".." in split(path, "/")
	prefix_covers(e.pathPrefix, trim_trailing_slashes(path))
]

trim_trailing_slashes(p) := "/" if {
	startswith(p, "/")
	trim_right(p, "/") == ""
} else := trim_right(p, "/")

prefix_covers("/", path) if startswith(path, "/")

prefix_covers(prefix, path) if path == prefix

prefix_covers(prefix, path) if startswith(path, concat("", [prefix, "/"]))

# Writable only if some covering entry is not read-only.
writable(path) if {
	some e in covering(path)
	not e.readOnly
}

findings contains f if {
	gh.pod_checked
	some v in host_path_volumes
	count(covering(v.path)) == 0
	f := gh.pod_finding(sprintf("spec.volumes[%d].hostPath.path", [v.index]), v.path, host_paths_why)
}

findings contains f if {
	some v in host_path_volumes
	count(covering(v.path)) > 0
	not writable(v.path)
	some ct in gh.containers
	some j, m in object.get(ct.container, "volumeMounts", [])
	m.name == v.name
	object.get(m, "readOnly", false) != true
	why := sprintf("host path %s (volume %q) is allowed read-only only; set readOnly: true", [v.path, v.name])
	f := gh.container_finding(ct, sprintf("volumeMounts[%d].readOnly", [j]), object.get(m, "readOnly", null), why)
}

host_paths_why := "no hostPath volumes are allowed" if {
	count(allowed_host_paths) == 0
} else := sprintf("allowed host path prefixes: %s", [concat(", ", [entry_text(e) | some e in allowed_host_paths])])

entry_text(e) := sprintf("%s (read-only)", [e.pathPrefix]) if {
	e.readOnly
} else := e.pathPrefix
