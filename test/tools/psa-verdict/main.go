// psa-verdict: the Kubernetes API server's own Pod Security Admission checks
// (k8s.io/pod-security-admission/policy) as a filter, so Gatehouse's presets can be compared
// with them pod by pod (test/pss). It reads objects (one JSON object per line, or a JSON list
// with "items"; Pods and workloads, whose pod template is checked as PSA checks it) and prints
// one JSON line per object:
//
//	{"index":0,"kind":"Pod","name":"p","verdicts":{"baseline":{"v1.36":{"allowed":false,"reasons":["host namespaces (hostNetwork=true)"]}}}}
//
// Flags: -levels baseline,restricted  -versions v1.31,...,latest
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

type verdict struct {
	Allowed bool     `json:"allowed"`
	Reasons []string `json:"reasons"`
}

type output struct {
	Index    int                           `json:"index"`
	Kind     string                        `json:"kind"`
	Name     string                        `json:"name"`
	Error    string                        `json:"error,omitempty"`
	Verdicts map[string]map[string]verdict `json:"verdicts,omitempty"`
}

// A workload's pod template at spec.template (Deployment, ReplicaSet, StatefulSet, DaemonSet,
// Job, ReplicationController), as PSA's DefaultPodSpecExtractor reads it.
type templated struct {
	Spec struct {
		Template corev1.PodTemplateSpec `json:"template"`
	} `json:"spec"`
}

func podOf(raw []byte) (string, string, *metav1.ObjectMeta, *corev1.PodSpec, error) {
	var head struct {
		Kind     string            `json:"kind"`
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := utiljson.Unmarshal(raw, &head); err != nil {
		return "", "", nil, nil, err
	}
	switch head.Kind {
	case "Pod", "":
		var p corev1.Pod
		if err := utiljson.Unmarshal(raw, &p); err != nil {
			return head.Kind, head.Metadata.Name, nil, nil, err
		}
		return head.Kind, p.Name, &p.ObjectMeta, &p.Spec, nil
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController":
		var w templated
		if err := utiljson.Unmarshal(raw, &w); err != nil {
			return head.Kind, head.Metadata.Name, nil, nil, err
		}
		return head.Kind, head.Metadata.Name, &w.Spec.Template.ObjectMeta, &w.Spec.Template.Spec, nil
	case "CronJob":
		var c batchv1.CronJob
		if err := utiljson.Unmarshal(raw, &c); err != nil {
			return head.Kind, head.Metadata.Name, nil, nil, err
		}
		t := &c.Spec.JobTemplate.Spec.Template
		return head.Kind, head.Metadata.Name, &t.ObjectMeta, &t.Spec, nil
	case "PodTemplate":
		var t corev1.PodTemplate
		if err := utiljson.Unmarshal(raw, &t); err != nil {
			return head.Kind, head.Metadata.Name, nil, nil, err
		}
		return head.Kind, head.Metadata.Name, &t.Template.ObjectMeta, &t.Template.Spec, nil
	}
	return head.Kind, head.Metadata.Name, nil, nil, fmt.Errorf("kind %q has no pod template PSA checks", head.Kind)
}

// Objects from stdin: a JSON list ({"items": [...]}, or a bare array) or one object per line.
func readObjects(r io.Reader) ([]json.RawMessage, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "[") {
		var items []json.RawMessage
		return items, json.Unmarshal([]byte(trimmed), &items)
	}
	var list struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if json.Unmarshal([]byte(trimmed), &list) == nil && strings.HasSuffix(list.Kind, "List") {
		return list.Items, nil
	}
	var out []json.RawMessage
	sc := bufio.NewScanner(strings.NewReader(trimmed))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" {
			out = append(out, json.RawMessage(line))
		}
	}
	return out, sc.Err()
}

func main() {
	levels := flag.String("levels", "baseline,restricted", "comma-separated PSS levels")
	versions := flag.String("versions", "latest", "comma-separated PSS versions (v1.N or latest)")
	flag.Parse()

	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		fail(err)
	}
	var lvs []api.LevelVersion
	var keys [][2]string
	for _, l := range strings.Split(*levels, ",") {
		level, err := api.ParseLevel(l)
		if err != nil {
			fail(err)
		}
		for _, v := range strings.Split(*versions, ",") {
			version, err := api.ParseVersion(v)
			if err != nil {
				fail(err)
			}
			lvs = append(lvs, api.LevelVersion{Level: level, Version: version})
			keys = append(keys, [2]string{l, v})
		}
	}

	objects, err := readObjects(os.Stdin)
	if err != nil {
		fail(err)
	}
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	for i, raw := range objects {
		kind, name, meta, spec, err := podOf(raw)
		out := output{Index: i, Kind: kind, Name: name}
		if err != nil {
			out.Error = err.Error()
		} else {
			out.Verdicts = map[string]map[string]verdict{}
			for j, lv := range lvs {
				agg := policy.AggregateCheckResults(evaluator.EvaluatePod(lv, meta, spec))
				v := verdict{Allowed: agg.Allowed, Reasons: []string{}}
				for k, reason := range agg.ForbiddenReasons {
					if agg.ForbiddenDetails[k] != "" {
						reason = fmt.Sprintf("%s (%s)", reason, agg.ForbiddenDetails[k])
					}
					v.Reasons = append(v.Reasons, reason)
				}
				if out.Verdicts[keys[j][0]] == nil {
					out.Verdicts[keys[j][0]] = map[string]verdict{}
				}
				out.Verdicts[keys[j][0]][keys[j][1]] = v
			}
		}
		if err := enc.Encode(out); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "psa-verdict:", err)
	os.Exit(2)
}
