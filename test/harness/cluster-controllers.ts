// kube-controller-manager run out of cluster against the test API server, so that workloads
// behave as in a real cluster: a Deployment creates a ReplicaSet, the ReplicaSet creates Pods
// (through admission, so Gatekeeper's webhook judges each one), a CronJob creates Jobs and a Job
// its Pods, and deleted namespaces finish terminating. There is no kubelet and no scheduler:
// Pods that are admitted stay Pending, which is all admission needs.
//
// Flags (kube-controller-manager v1.36):
//   --kubeconfig              the harness's admin (system:masters) kubeconfig;
//   --leader-elect=false      one instance, no Lease to wait for;
//   --secure-port=0           no serving endpoint (nothing scrapes it; saves a port and a cert);
//   --controllers=*,-...      every default controller but those needing nodes or a cloud:
//                             node lifecycle/ipam, the service load balancer and routes;
//   --use-service-account-credentials    each controller acts as its own ServiceAccount in
//                             kube-system (as in a real cluster), so admission sees e.g.
//                             system:serviceaccount:kube-system:replicaset-controller;
//   --service-account-private-key-file   the API server's signing key, so the token controller
//                             (which mints legacy tokens for the `default` ServiceAccounts the
//                             serviceaccount controller creates) can start;
//   --concurrent-*-syncs=2    enough for tests, gentle on two cores.
export const DISABLED_CONTROLLERS = [
  "-node-lifecycle-controller",
  "-node-ipam-controller",
  "-service-lb-controller",
  "-cloud-node-lifecycle-controller",
  "-node-route-controller",
];

export function controllerManagerFlags(o: { kubeconfig: string; serviceAccountKey: string; garbageCollector?: boolean }): string[] {
  // Gatekeeper run out of cluster (--debug-use-fake-pod) makes its per-pod status objects owned
  // by a Pod "no-pod" that does not exist, so the garbage collector deletes them as fast as
  // Gatekeeper writes them, and templates' and constraints' status flaps (see ClusterOptions).
  const disabled = o.garbageCollector === false ? [...DISABLED_CONTROLLERS, "-garbage-collector-controller"] : DISABLED_CONTROLLERS;
  return [
    `--kubeconfig=${o.kubeconfig}`,
    "--leader-elect=false",
    "--secure-port=0",
    `--controllers=*,${disabled.join(",")}`,
    `--service-account-private-key-file=${o.serviceAccountKey}`,
    "--use-service-account-credentials=true",
    "--concurrent-deployment-syncs=2",
    "--concurrent-replicaset-syncs=2",
    "--concurrent-job-syncs=2",
    "--v=1",
  ];
}
