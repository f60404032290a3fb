// The agent's Helm chart (deploy/helm/gatehouse-agent) against real helm (built from the Go module
// proxy): it lints, it renders, and what it renders is the install manifest the API generates
// (src/install/agent-manifest.ts) — the same RBAC, the same Deployment — with its values (API
// URL, token Secret, resources, poll interval, image) where they are set. Applying it to a real
// cluster is test/cluster/agent-helm.cluster.test.ts.
import { describe, expect, it } from "vitest";
import { AGENT_NAMESPACE, AGENT_SECRET, agentDeployment, agentManifestObjects } from "../../src/install/agent-manifest.ts";
import { AGENT_CHART as CHART, helm, renderAgentChart } from "../harness/helm.ts";

type Obj = Record<string, any>;
const renderChart = (values: Record<string, string>, namespace = AGENT_NAMESPACE): Obj[] => renderAgentChart(values, namespace);
const API = "https://gatehouse.example";
const byKind = (objs: Obj[]) => new Map(objs.map((o) => [`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o]));

describe("the agent's Helm chart", () => {
  it("passes helm lint, and lint refuses values that are not the chart's (its values schema)", () => {
    const ok = helm(["lint", CHART, "--set-string", `apiUrl=${API}`]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain("0 chart(s) failed");
    const bad = helm(["lint", CHART, "--set-string", "apiUrl=ftp://x", "--set", "pollIntervalSeconds=0"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout + bad.stderr).toMatch(/apiUrl/);
    expect(bad.stdout + bad.stderr).toMatch(/pollIntervalSeconds/);
  });

  it("renders exactly the install manifest's objects: RBAC, ServiceAccount, Secret and Deployment", () => {
    const rendered = renderChart({ apiUrl: API, "token.value": "gha_abc_def" });
    // The manifest also creates the Namespace; with Helm the release namespace is created by
    // `helm install --create-namespace` instead.
    const manifest = agentManifestObjects({ apiUrl: API, token: "gha_abc_def" }).filter((o) => o.kind !== "Namespace") as Obj[];
    expect([...byKind(rendered).keys()].sort()).toEqual([...byKind(manifest).keys()].sort());
    const chart = byKind(rendered);
    for (const [k, want] of byKind(manifest)) {
      const got = structuredClone(chart.get(k)!);
      // The chart says how it pulls the image; the manifest leaves the cluster's default.
      if (got.kind === "Deployment") delete got.spec.template.spec.containers[0].imagePullPolicy;
      expect(got, k).toEqual(want);
    }
  });

  it("without a token value it creates no Secret and mounts the named one", () => {
    const rendered = renderChart({ apiUrl: API, "token.secretName": "my-agent-token", "token.key": "credential" });
    expect(rendered.map((o) => o.kind)).not.toContain("Secret");
    const pod = rendered.find((o) => o.kind === "Deployment")!.spec.template.spec;
    expect(pod.volumes).toEqual([{ name: "token", secret: { secretName: "my-agent-token" } }]);
    expect(pod.containers[0].env).toContainEqual({ name: "GATEHOUSE_TOKEN_FILE", value: "/var/run/secrets/gatehouse/credential" });
    expect(renderChart({ apiUrl: API }).find((o) => o.kind === "Deployment")!.spec.template.spec.volumes[0].secret.secretName).toBe(AGENT_SECRET);
  });

  it("takes the poll interval, resources, image and Gatekeeper's namespace from values", () => {
    const rendered = renderChart(
      {
        apiUrl: API,
        pollIntervalSeconds: "15",
        "resources.limits.memory": "256Mi",
        "image.repository": "registry.example/agent",
        "image.tag": "9.9.9",
        "gatekeeper.namespace": "policy-system",
      },
      "platform-agents",
    );
    const deployment = rendered.find((o) => o.kind === "Deployment")!;
    const c = deployment.spec.template.spec.containers[0];
    expect(deployment.metadata.namespace).toBe("platform-agents");
    expect(c.image).toBe("registry.example/agent:9.9.9");
    expect(c.resources.limits.memory).toBe("256Mi");
    expect(c.env).toContainEqual({ name: "GATEHOUSE_POLL_INTERVAL_SECONDS", value: "15" });
    expect(c.env).toContainEqual({ name: "GATEHOUSE_GATEKEEPER_NAMESPACE", value: "policy-system" });
    const role = rendered.find((o) => o.kind === "Role")!;
    expect(role.metadata.namespace).toBe("policy-system");
    for (const binding of rendered.filter((o) => o.kind.endsWith("Binding"))) {
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "gatehouse-agent", namespace: "platform-agents" }]);
    }
    // The default image is the manifest's (the chart's appVersion is the agent's version).
    const manifestImage = (agentDeployment({ apiUrl: API }) as Obj).spec.template.spec.containers[0].image;
    expect(renderChart({ apiUrl: API }).find((o) => o.kind === "Deployment")!.spec.template.spec.containers[0].image).toBe(manifestImage);
  });

  it("refuses to render without an API URL, or with a token that is not an agent credential", () => {
    const noUrl = helm(["template", "x", CHART]);
    expect(noUrl.code).not.toBe(0);
    expect(noUrl.stderr).toContain("apiUrl is required");
    const badToken = helm(["template", "x", CHART, "--set-string", `apiUrl=${API}`, "--set-string", "token.value=hunter2"]);
    expect(badToken.code).not.toBe(0);
    expect(badToken.stderr).toContain("token.value must be an agent credential (gha_...)");
  });
});
