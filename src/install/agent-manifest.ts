// The agent's install manifest: one `kubectl apply -f` puts the agent in a cluster. Generated here
// (one source) for infra/agent.yaml (`npm run agent:manifest`) and for the API, which embeds the
// token Secret only in the response that creates or rotates a credential.
import { toYaml } from "../policies/yaml.ts";

export const AGENT_NAMESPACE = "gatehouse-system";
export const AGENT_NAME = "gatehouse-agent";
export const AGENT_SECRET = "gatehouse-agent-token";
export const AGENT_IMAGE = "ghcr.io/gatehouse/agent:0.1.0";
export const AGENT_METRICS_PORT = 9090;
/**
 * The agent's Node flags (the Helm chart's default nodeOptions and the image's NODE_OPTIONS are the
 * same; bench/agent runs with them): a bounded heap with a small young generation; one V8 worker
 * thread instead of four (GC and compile helpers an agent that loops every 30 s does not need;
 * each costs RSS); `gc()` for the agent's collection in the idle gap after a pass (agent/heap.ts:
 * without it RSS climbs ~9 MiB towards V8's own next full GC and keeps that high-water mark); and
 * no JIT — the interpreter only, ~13 MiB less RSS for ~1 ms more CPU per pass. --jitless also
 * leaves no WebAssembly, so no `fetch` (undici parses HTTP with it): the agent uses node:http
 * (agent/package.test.ts checks). Measured in agent/README.md#memory, with and without each.
 */
export const AGENT_NODE_OPTIONS = "--max-old-space-size=64 --max-semi-space-size=1 --v8-pool-size=1 --expose-gc --jitless";

export interface AgentManifestOptions {
  apiUrl: string;
  /** The agent credential (gha_...): when given, the token Secret is part of the manifest. */
  token?: string;
  environmentName?: string;
  image?: string;
}

type Obj = Record<string, unknown>;
const labels = { "app.kubernetes.io/name": AGENT_NAME, "app.kubernetes.io/part-of": "gatehouse" };
const verbsWrite = ["get", "list", "watch", "create", "update", "patch", "delete"];

/** The ClusterRole: only the Gatekeeper groups the agent manages, and read-only what it checks. */
export function agentClusterRole(): Obj {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: AGENT_NAME, labels },
    rules: [
      { apiGroups: ["templates.gatekeeper.sh"], resources: ["constrainttemplates"], verbs: verbsWrite },
      { apiGroups: ["constraints.gatekeeper.sh"], resources: ["*"], verbs: verbsWrite },
      { apiGroups: ["expansion.gatekeeper.sh"], resources: ["expansiontemplate"], verbs: verbsWrite },
      // Is Gatekeeper installed, and are the constraint CRDs it generates established?
      { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ["get", "list", "watch"] },
      // Gatekeeper's audit results as PolicyReports, where the wgpolicyk8s.io CRDs are installed
      // (policy-reports.ts): one per namespace with violations, one ClusterPolicyReport.
      { apiGroups: ["wgpolicyk8s.io"], resources: ["policyreports", "clusterpolicyreports"], verbs: verbsWrite },
      // Which workload a refused object belongs to (admission-events.ts): a Pod's ReplicaSet or
      // Job and their owners, a ReplicaSet's Deployment, a Job's CronJob (get only).
      { apiGroups: ["apps"], resources: ["replicasets", "deployments"], verbs: ["get"] },
      { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: ["get"] },
      // The API server's refusals of controllers' Pods (vap-denials.ts): every namespace's
      // FailedCreate Events, one LIST a pass (field selector reason=FailedCreate).
      { apiGroups: [""], resources: ["events"], verbs: ["list"] },
    ],
  };
}

export function agentManifestObjects(opts: AgentManifestOptions): Obj[] {
  const meta = (name: string, namespaced = true) => ({ name, ...(namespaced ? { namespace: AGENT_NAMESPACE } : {}), labels });
  const objects: Obj[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: meta(AGENT_NAMESPACE, false) },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(AGENT_NAME) },
    agentClusterRole(),
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: meta(AGENT_NAME, false),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: AGENT_NAME },
      subjects: [{ kind: "ServiceAccount", name: AGENT_NAME, namespace: AGENT_NAMESPACE }],
    },
    // Read-only, in Gatekeeper's namespace only: its Deployment's image tag is its version, and
    // the EndpointSlices of its webhook Service say whether admission is being served (degraded),
    // and the admission Events its webhook records there (--emit-admission-events). Deployments
    // and EndpointSlices are watched (informer.ts); Events are listed each pass (kube.ts says why).
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: AGENT_NAME, namespace: "gatekeeper-system", labels },
      rules: [
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
        { apiGroups: [""], resources: ["events"], verbs: ["list"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: AGENT_NAME, namespace: "gatekeeper-system", labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: AGENT_NAME },
      subjects: [{ kind: "ServiceAccount", name: AGENT_NAME, namespace: AGENT_NAMESPACE }],
    },
  ];
  if (opts.token) {
    objects.push({ apiVersion: "v1", kind: "Secret", metadata: meta(AGENT_SECRET), type: "Opaque", stringData: { token: opts.token } });
  }
  objects.push(agentDeployment(opts));
  return objects;
}

export function agentDeployment(opts: AgentManifestOptions): Obj {
  const probe = (path: string, period: number) => ({ httpGet: { path, port: "http" }, periodSeconds: period, timeoutSeconds: 3, failureThreshold: 3 });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: AGENT_NAME, namespace: AGENT_NAMESPACE, labels },
    spec: {
      // One writer per cluster: two agents would only repeat each other's applies.
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: { "app.kubernetes.io/name": AGENT_NAME } },
      template: {
        metadata: {
          labels,
          annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(AGENT_METRICS_PORT) },
        },
        spec: {
          serviceAccountName: AGENT_NAME,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
          containers: [
            {
              name: "agent",
              image: opts.image ?? AGENT_IMAGE,
              env: [
                { name: "GATEHOUSE_API_URL", value: opts.apiUrl },
                { name: "GATEHOUSE_TOKEN_FILE", value: "/var/run/secrets/gatehouse/token" },
                { name: "GATEHOUSE_LOG_LEVEL", value: "info" },
                // A bounded heap, a small young generation, one V8 worker thread: RSS low and flat (bench/agent).
                { name: "NODE_OPTIONS", value: AGENT_NODE_OPTIONS },
              ],
              ports: [{ name: "http", containerPort: AGENT_METRICS_PORT }],
              livenessProbe: probe("/healthz", 20),
              readinessProbe: probe("/readyz", 10),
              // bench/agent: RSS 81–90 MiB with every control enabled (holding at 90 once warm); headroom for a full re-apply.
              resources: { requests: { cpu: "20m", memory: "128Mi" }, limits: { memory: "192Mi" } },
              securityContext: {
                runAsNonRoot: true,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
                seccompProfile: { type: "RuntimeDefault" },
              },
              volumeMounts: [{ name: "token", mountPath: "/var/run/secrets/gatehouse", readOnly: true }],
            },
          ],
          volumes: [{ name: "token", secret: { secretName: AGENT_SECRET } }],
        },
      },
    },
  };
}

/** Multi-document YAML, with a header saying what it is and how to apply it. */
export function agentManifest(opts: AgentManifestOptions): string {
  const header = [
    `Gatehouse agent${opts.environmentName ? ` for environment "${opts.environmentName}"` : ""}. Requires Gatekeeper in the cluster.`,
    "Apply with: kubectl apply -f <this file>",
    opts.token
      ? "Contains the agent's token Secret: keep this file private."
      : `The token Secret is not included: kubectl -n ${AGENT_NAMESPACE} create secret generic ${AGENT_SECRET} --from-literal=token=gha_...`,
  ];
  return header.map((l) => `# ${l}\n`).join("") + toYaml(agentManifestObjects(opts));
}
