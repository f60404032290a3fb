// The shapes of the test cluster (cluster.ts): what a test may ask for and what it gets back.
import type { RunResult } from "./cluster-process.ts";

export interface ClusterOptions {
  /** Run Gatekeeper's validating admission webhook and register it with the API server (default false). */
  webhook?: boolean;
  /** The webhook configuration's failurePolicy (default "Ignore"). */
  failurePolicy?: "Ignore" | "Fail";
  /** Gatekeeper's --audit-interval in seconds (default 5). */
  auditIntervalSeconds?: number;
  /** Start the Gatekeeper controller (default true); false gives a bare API server with the CRDs. */
  gatekeeper?: boolean;
  /** Run kube-controller-manager (cluster-controllers.ts), so Deployments, ReplicaSets, Jobs and
   * CronJobs create their Pods and namespaces finish terminating (default false). */
  controllers?: boolean;
  /** With controllers: run its garbage collector (default true). false keeps Gatekeeper's per-pod
   * status objects, which the collector deletes (their owner is Gatekeeper's fake pod), so
   * template and constraint status stays put; nothing is then deleted in cascade. */
  garbageCollector?: boolean;
  /** Gatekeeper's --emit-admission-events: an Event in gatekeeper-system per admission violation. */
  admissionEvents?: boolean;
  /** Gatekeeper generates ValidatingAdmissionPolicies (and bindings) only where the rendered objects
   * ask, waiting 1 s for a binding (cluster-gatekeeper.ts VAP_FLAGS); default: Gatekeeper's defaults. */
  vap?: boolean;
  /** Extra static-token users (--token-auth-file); their tokens are in Cluster.userTokens. */
  users?: readonly { name: string; groups?: readonly string[] }[];
}

export interface KubectlOptions {
  /** Written to kubectl's stdin. */
  input?: string;
  /** Kubeconfig file to use (default: the admin kubeconfig). */
  kubeconfig?: string;
  /** Kill kubectl after this long (default 120 s); reported as code -1. */
  timeoutMs?: number;
}

export interface ClusterTimings {
  /** From start to etcd healthy. */
  etcdMs: number;
  /** From start to kube-apiserver /readyz 200. */
  apiserverReadyMs: number;
  /** From start to Gatekeeper's CRDs established and gatekeeper-system created. */
  crdsMs: number;
  /** From start to Gatekeeper /readyz and /healthz 200 (and its webhook serving), if started. */
  gatekeeperHealthyMs?: number;
  /** The whole of startCluster. */
  totalMs: number;
}

export interface Cluster {
  /** The temp dir holding everything of this cluster (logs, certs, kubeconfigs, etcd data). */
  readonly dir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** The API server's self-signed serving certificate chain (from --cert-dir), base64 of the PEM
   * — the form kubeconfig's certificate-authority-data takes. */
  readonly caData: string;
  /** The same, as PEM text (for node:https `ca`). */
  readonly caPem: string;
  /** The API server's serving certificate chain and key (PEM, from --cert-dir; valid for
   * 127.0.0.1): lets a local proxy serve TLS that caData already trusts. */
  readonly servingTls: { readonly cert: string; readonly key: string };
  /** Bearer token of user gatehouse-admin in group system:masters. */
  readonly adminToken: string;
  /** Path of a kubeconfig for adminToken. */
  readonly adminKubeconfig: string;
  /** Tokens of the static users asked for in ClusterOptions.users, by name. */
  readonly userTokens: Readonly<Record<string, string>>;
  /** Log file paths. */
  readonly logs: { readonly etcd: string; readonly apiserver: string; readonly gatekeeper: string; readonly controllerManager: string };
  /** https://127.0.0.1:<port>/v1/admit when the webhook is on. */
  readonly webhookUrl: string | undefined;
  readonly timings: ClusterTimings;
  /** Writes a kubeconfig for a bearer token (and optionally another server URL, e.g. a proxy); returns
   * its path. https URLs get caData as certificate-authority-data; http URLs get
   * insecure-skip-tls-verify (@kubernetes/client-node refuses http:// without it; kubectl never
   * sends a token to an http:// server). */
  kubeconfig(token: string, server?: string): string;
  /** Runs kubectl; never throws on a non-zero exit. */
  kubectl(args: readonly string[], opts?: KubectlOptions): Promise<RunResult>;
  /** Runs kubectl; throws with its stderr on a non-zero exit; returns stdout. */
  kubectlOk(args: readonly string[], opts?: KubectlOptions): Promise<string>;
  /** `kubectl <args> -o json`, parsed. */
  kubectlJson<T = any>(args: readonly string[], opts?: KubectlOptions): Promise<T>;
  /** Server-side apply as admin (field manager "gatehouse-test-harness", conflicts forced); returns stdout. */
  applyYaml(yaml: string, opts?: { fieldManager?: string; kubeconfig?: string }): Promise<string>;
  /** A real TokenRequest token (`kubectl create token`); creates the namespace and service account if missing. */
  createToken(serviceAccount: string, namespace: string, opts?: { duration?: string }): Promise<string>;
  gatekeeperRunning(): boolean;
  /** Stops the Gatekeeper controller and waits for it to exit (the webhook configuration stays). */
  stopGatekeeper(): Promise<void>;
  /** (Re)starts the Gatekeeper controller and waits until it is healthy; no-op when running. */
  startGatekeeper(): Promise<void>;
  /** Stops everything, waits for every process to exit, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}
