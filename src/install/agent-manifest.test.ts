// The agent's install manifest: the committed infra/agent.yaml is what the generator makes, the
// Secret appears only when a token is given, and the agent's own Deployment passes Gatehouse's
// restricted preset in real Gatekeeper (gator) — with no namespace exemption to hide behind.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { gatorTest } from "../../test/harness/gator.ts";
import { DEFAULT_API_URL } from "../cli/agent-manifest.ts";
import { applyPreset, EnvironmentSettings, renderEnvironment } from "../policies/index.ts";
import { AGENT_SECRET, agentDeployment, agentManifest, agentManifestObjects } from "./agent-manifest.ts";

const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as { kind: string; metadata: { name: string }; stringData?: { token: string } });

describe("agent install manifest", () => {
  it("infra/agent.yaml is current (regenerate with npm run agent:manifest -- --out infra/agent.yaml)", () => {
    expect(readFileSync(new URL("../../infra/agent.yaml", import.meta.url), "utf8")).toBe(agentManifest({ apiUrl: DEFAULT_API_URL }));
  });

  it("has no Secret without a token, and embeds the token when given one", () => {
    expect(docs(agentManifest({ apiUrl: "https://x" })).map((d) => d.kind)).toEqual([
      "Namespace",
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Role",
      "RoleBinding",
      "Deployment",
    ]);
    const withToken = docs(agentManifest({ apiUrl: "https://x", token: "gha_abc_def" }));
    const secret = withToken.find((d) => d.kind === "Secret");
    expect(secret?.metadata.name).toBe(AGENT_SECRET);
    expect(secret?.stringData?.token).toBe("gha_abc_def");
  });

  it("never carries the managed-by label the agent prunes by", () => {
    for (const o of agentManifestObjects({ apiUrl: "https://x", token: "gha_a_b" })) {
      expect(JSON.stringify(o)).not.toContain("app.kubernetes.io/managed-by");
    }
  });

  it("the agent Deployment passes the restricted preset in gator, and a weakened copy does not", () => {
    const settings = EnvironmentSettings.parse({ ...applyPreset({}, "restricted"), exemptions: { namespaces: [] } });
    const { objects } = renderEnvironment(settings, new Date());
    const deployment = agentDeployment({ apiUrl: "https://x" });
    expect(gatorTest(objects, [deployment])).toEqual([]);

    const weak = structuredClone(deployment) as any;
    delete weak.spec.template.spec.containers[0].securityContext;
    delete weak.spec.template.spec.securityContext;
    const failed = new Set(gatorTest(objects, [weak]).map((r) => r.constraint.metadata.name));
    expect(failed).toEqual(new Set(["privilege-escalation", "capabilities", "seccomp", "users-and-groups"]));
  });
});
