// The Gatekeeper controller run out of cluster (DESIGN.md, "Real components"): its flags and the
// ValidatingWebhookConfiguration that points the API server at its admission webhook.

export const GATEKEEPER_NAMESPACE = "gatekeeper-system";
export const WEBHOOK_CONFIGURATION_NAME = "gatekeeper-validating-webhook-configuration";
export const IGNORE_LABEL = "admission.gatekeeper.sh/ignore";

export interface GatekeeperFlagOptions {
  kubeconfig: string;
  auditIntervalSeconds: number;
  /** Must exist (Gatekeeper's default is /tmp/audit). */
  apiCacheDir: string;
  healthPort: number;
  prometheusPort: number;
  /** Serve the validating admission webhook on 127.0.0.1:port with tls.crt/tls.key from certDir. */
  webhook: { port: number; certDir: string } | undefined;
  /** --emit-admission-events (alpha): an Event per admission violation, in gatekeeper-system. */
  admissionEvents?: boolean;
  /** Generate ValidatingAdmissionPolicies and bindings exactly where templates and constraints ask (see ClusterOptions.vap). */
  vap?: boolean;
}

/**
 * Gatekeeper v3.23 already generates a VAP for every template with CEL and a binding for every
 * constraint of it (--default-create-vap-for-templates, --default-create-vap-binding-for-constraints,
 * both true). Turning both defaults off generates them only where Gatehouse's rendered objects ask
 * (template generateVAP: true, constraint scoped to vap.k8s.io), so a test proves that the rendered
 * objects alone decide; the binding waits 1 s instead of 30 for the API server to cache the CRD.
 */
export const VAP_FLAGS = [
  "--enable-k8s-native-validation=true",
  "--default-create-vap-for-templates=false",
  "--default-create-vap-binding-for-constraints=false",
  "--default-wait-for-vapb-generation=1",
];

/** Command-line flags; run it with POD_NAMESPACE=gatekeeper-system. */
export function gatekeeperFlags(o: GatekeeperFlagOptions): string[] {
  return [
    `--kubeconfig=${o.kubeconfig}`,
    "--operation=audit",
    "--operation=status",
    "--operation=generate",
    ...(o.webhook ? ["--operation=webhook"] : []),
    "--debug-use-fake-pod",
    "--disable-cert-rotation",
    "--enable-external-data=false",
    `--audit-interval=${o.auditIntervalSeconds}`,
    `--api-cache-dir=${o.apiCacheDir}`,
    `--health-addr=127.0.0.1:${o.healthPort}`,
    `--prometheus-port=${o.prometheusPort}`,
    "--metrics-addr=0",
    // Not in DESIGN.md: exit at once on SIGTERM (default waits 10 s), log each denial,
    // and let gatekeeper-system carry the ignore label.
    "--shutdown-delay=0",
    "--log-denies",
    `--exempt-namespace=${GATEKEEPER_NAMESPACE}`,
    ...(o.webhook ? ["--host=127.0.0.1", `--port=${o.webhook.port}`, `--cert-dir=${o.webhook.certDir}`] : []),
    ...(o.admissionEvents ? ["--emit-admission-events"] : []),
    ...(o.vap ? VAP_FLAGS : []),
  ];
}

/** Gatekeeper's validating webhook, as its Helm chart registers it in cluster but reached by URL:
 * CREATE and UPDATE of everything (pods/ephemeralcontainers included), namespaces labelled with
 * the ignore label skipped, 3 s timeout. */
export function webhookConfiguration(url: string, caPem: string, failurePolicy: "Ignore" | "Fail") {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: WEBHOOK_CONFIGURATION_NAME, labels: { "gatekeeper.sh/system": "yes" } },
    webhooks: [
      {
        name: "validation.gatekeeper.sh",
        clientConfig: { url, caBundle: Buffer.from(caPem).toString("base64") },
        rules: [
          {
            apiGroups: ["*"],
            apiVersions: ["*"],
            operations: ["CREATE", "UPDATE"],
            resources: ["*", "pods/ephemeralcontainers"],
            scope: "*",
          },
        ],
        failurePolicy,
        namespaceSelector: { matchExpressions: [{ key: IGNORE_LABEL, operator: "DoesNotExist" }] },
        sideEffects: "None",
        admissionReviewVersions: ["v1"],
        timeoutSeconds: 3,
      },
    ],
  };
}
