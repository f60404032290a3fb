// An informer keeps what its transform leaves of each object, from the LIST and from the watch
// alike: the agent's CRD informers hold "exists, Established" instead of whole OpenAPI schemas
// (kube.ts's crdSummary), for the life of the process. Against a real HTTP server on loopback
// speaking the LIST and WATCH wire format, through the agent's own kube-client.
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInformer } from "./informer.ts";
import { createKubeClient } from "./kube-client.ts";
import { crdSummary, deploymentSummary } from "./kube.ts";

const schema = { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", description: "x".repeat(10_000) } } } };
const crd = (name: string, rv: string, established: string) => ({
  metadata: { name, resourceVersion: rv, uid: `uid-${name}`, labels: { "gatekeeper.sh/constraint": "yes" }, managedFields: [{ manager: "gatekeeper" }] },
  spec: { group: "constraints.gatekeeper.sh", versions: [{ name: "v1beta1", schema }] },
  status: { conditions: [{ type: "Established", status: established, reason: "InitialNamesAccepted", message: "the initial names have been accepted" }] },
});

describe("informer transform", () => {
  let url: URL;
  let watcher: ServerResponse | null = null;
  const server = createServer((req, res) => {
    const q = new URL(req.url ?? "/", "http://x").searchParams;
    res.setHeader("content-type", "application/json");
    if (q.get("watch")) {
      watcher = res;
      res.write(""); // headers out; events follow
      return;
    }
    res.end(JSON.stringify({ metadata: { resourceVersion: "10" }, items: [crd("a.constraints.gatekeeper.sh", "9", "True")] }));
  });
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    watcher?.end();
    await new Promise((r) => server.close(r));
  });

  it("keeps only what crdSummary leaves, from the LIST and from a watch event", async () => {
    const informer = createInformer(createKubeClient({ server: url, token: null, tls: { rejectUnauthorized: true } }), {
      path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
      labelSelector: "gatekeeper.sh/constraint=yes",
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      resyncMs: 60_000,
      transform: crdSummary,
    });
    try {
      expect(await informer.list()).toEqual([
        {
          apiVersion: "apiextensions.k8s.io/v1",
          kind: "CustomResourceDefinition",
          metadata: { name: "a.constraints.gatekeeper.sh", namespace: undefined, resourceVersion: "9" },
          status: { conditions: [{ type: "Established", status: "True" }] },
        },
      ]);
      for (let i = 0; !watcher && i < 100; i++) await new Promise((r) => setTimeout(r, 20));
      watcher?.write(`${JSON.stringify({ type: "ADDED", object: crd("b.constraints.gatekeeper.sh", "11", "False") })}\n`);
      let listed = await informer.list();
      for (let i = 0; listed.length < 2 && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 20));
        listed = await informer.list();
      }
      const b = listed.find((o) => o.metadata?.name === "b.constraints.gatekeeper.sh");
      expect(b).toEqual({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: "b.constraints.gatekeeper.sh", namespace: undefined, resourceVersion: "11" },
        status: { conditions: [{ type: "Established", status: "False" }] },
      });
      expect(JSON.stringify(listed).length).toBeLessThan(1000); // the 10 KB schemas are not held
    } finally {
      informer.stop();
    }
  });

  it("deploymentSummary keeps the containers' image and flags, nothing else of the spec", () => {
    const d = {
      metadata: { name: "gatekeeper-controller-manager", namespace: "gatekeeper-system", resourceVersion: "5", annotations: { a: "b" } },
      spec: {
        replicas: 3,
        template: {
          metadata: { labels: { x: "y" } },
          spec: { containers: [{ name: "manager", image: "openpolicyagent/gatekeeper:v3.23.0", args: ["--emit-admission-events"], env: [{ name: "A" }] }] },
        },
      },
      status: { readyReplicas: 3 },
    };
    expect(deploymentSummary(d)).toEqual({
      metadata: { name: "gatekeeper-controller-manager", namespace: "gatekeeper-system", resourceVersion: "5" },
      spec: { template: { spec: { containers: [{ image: "openpolicyagent/gatekeeper:v3.23.0", command: undefined, args: ["--emit-admission-events"] }] } } },
    });
  });
});
