// A real Kubernetes API server with OPA Gatekeeper, for the agent's tests (no mocks):
// etcd + kube-apiserver (RBAC, static admin token, TokenRequest-capable service accounts),
// Gatekeeper's CRDs, and the Gatekeeper controller run out of cluster (audit, status, generate,
// and optionally its validating admission webhook). See ../shared/DESIGN.md, "Real components".
//
// Each cluster gets free ports and its own temp dir; logs are files in that dir
// (etcd.log, kube-apiserver.log, gatekeeper.log, kube-controller-manager.log). By default there is
// no controller-manager and never a kubelet: namespaces never finish terminating and pods never
// run, so use unique names. `controllers: true` adds kube-controller-manager
// (cluster-controllers.ts): workloads then create their Pods, which stay Pending.
//
// Set GATEHOUSE_KEEP_CLUSTER=1 to keep the temp dir (logs, kubeconfigs) after stop().
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeconfigJson, makeServiceAccountKey, makeWebhookCerts } from "./cluster-certs.ts";
import { GATEKEEPER_NAMESPACE, IGNORE_LABEL, WEBHOOK_CONFIGURATION_NAME, gatekeeperFlags, webhookConfiguration } from "./cluster-gatekeeper.ts";
import { freePorts, httpGet, onProcessExit, runCommand, spawnManaged, tailFile, tlsReachable, waitUntil, type ManagedProcess } from "./cluster-process.ts";
import type { Cluster, ClusterOptions, KubectlOptions } from "./cluster-types.ts";
import { controllerManagerFlags } from "./cluster-controllers.ts";
import { toolPath } from "./tools.ts";

export type { Cluster, ClusterOptions, ClusterTimings, KubectlOptions } from "./cluster-types.ts";

const ADMIN_USER = "gatehouse-admin";
const HARNESS_FIELD_MANAGER = "gatehouse-test-harness";
export { GATEKEEPER_NAMESPACE, IGNORE_LABEL, WEBHOOK_CONFIGURATION_NAME };

function token(): string {
  return randomBytes(24).toString("hex");
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const t0 = Date.now();
  const webhook = opts.webhook ?? false;
  const etcdBin = toolPath("etcd");
  const kubeDir = toolPath("kube");
  const gatekeeperBin = toolPath("gatekeeper");
  const crdsDir = toolPath("crds");
  const kubectlBin = join(kubeDir, "kubectl");

  const dir = mkdtempSync(join(tmpdir(), "gatehouse-cluster-"));
  const logs = {
    etcd: join(dir, "etcd.log"),
    apiserver: join(dir, "kube-apiserver.log"),
    gatekeeper: join(dir, "gatekeeper.log"),
    controllerManager: join(dir, "kube-controller-manager.log"),
  };
  const [etcdClient, etcdPeer, apiPort, healthPort, promPort, webhookPort] = (await freePorts(6)) as [number, number, number, number, number, number];
  const server = `https://127.0.0.1:${apiPort}`;
  const started: ManagedProcess[] = [];
  let gatekeeper: ManagedProcess | undefined;
  let stopped = false;
  const keep = Boolean(process.env.GATEHOUSE_KEEP_CLUSTER);
  // If the test process exits without stop(): children get SIGKILL, the dir goes too.
  const unregisterExitCleanup = onProcessExit(() => {
    if (!keep) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  });

  const stopAll = async () => {
    if (gatekeeper) await gatekeeper.stop();
    // Reverse order: the API server before etcd. Wait for each: a killed apiserver keeps its port.
    for (const p of [...started].reverse()) await p.stop(20_000);
  };
  const fail = async (err: unknown): Promise<never> => {
    await stopAll().catch(() => {});
    // Keep the logs for reading, not etcd's data (~60 MB of preallocated WAL).
    unregisterExitCleanup();
    if (!keep) rmSync(join(dir, "etcd-data"), { recursive: true, force: true });
    const msg = err instanceof Error ? err.message : String(err);
    const parts = [`startCluster failed: ${msg}`, `cluster dir (logs kept): ${dir}`];
    for (const [name, path] of Object.entries(logs)) {
      if (existsSync(path)) parts.push(`--- ${name} log ${path}, last lines:\n${tailFile(path, 30)}`);
    }
    console.error(`startCluster failed; logs: ${Object.values(logs).join(" ")}`);
    throw new Error(parts.join("\n"));
  };

  try {
    // --- keys and tokens
    const saKey = await makeServiceAccountKey(dir);
    const adminToken = token();
    const userTokens: Record<string, string> = {};
    const csvField = (s: string) => `"${s.replace(/"/g, '""')}"`;
    const tokenLines = [`${adminToken},${ADMIN_USER},${ADMIN_USER},${csvField("system:masters")}`];
    for (const u of opts.users ?? []) {
      userTokens[u.name] = token();
      tokenLines.push(`${userTokens[u.name]},${u.name},${u.name},${csvField((u.groups ?? []).join(","))}`);
    }
    const tokenFile = join(dir, "tokens.csv");
    writeFileSync(tokenFile, `${tokenLines.join("\n")}\n`, { mode: 0o600 });

    // --- etcd
    const etcdClientUrl = `http://127.0.0.1:${etcdClient}`;
    const etcdPeerUrl = `http://127.0.0.1:${etcdPeer}`;
    const etcd = spawnManaged(
      "etcd",
      etcdBin,
      [
        "--name=default",
        `--data-dir=${join(dir, "etcd-data")}`,
        `--listen-client-urls=${etcdClientUrl}`,
        `--advertise-client-urls=${etcdClientUrl}`,
        `--listen-peer-urls=${etcdPeerUrl}`,
        `--initial-advertise-peer-urls=${etcdPeerUrl}`,
        `--initial-cluster=default=${etcdPeerUrl}`,
        "--unsafe-no-fsync",
        "--log-level=warn",
      ],
      { logPath: logs.etcd },
    );
    started.push(etcd);
    await waitUntil("etcd /health", async () => (await httpGet(`${etcdClientUrl}/health`)).status === 200, {
      timeoutMs: 60_000,
      watch: [etcd],
    });
    const etcdMs = Date.now() - t0;

    // --- kube-apiserver
    const certDir = join(dir, "apiserver-certs");
    mkdirSync(certDir);
    const apiserver = spawnManaged(
      "kube-apiserver",
      join(kubeDir, "kube-apiserver"),
      [
        `--etcd-servers=${etcdClientUrl}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        `--secure-port=${apiPort}`,
        `--cert-dir=${certDir}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        "--allow-privileged=true",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        `--service-account-key-file=${saKey}`,
        `--service-account-signing-key-file=${saKey}`,
        "--authorization-mode=RBAC",
        `--token-auth-file=${tokenFile}`,
        "--disable-admission-plugins=ServiceAccount",
      ],
      { logPath: logs.apiserver },
    );
    started.push(apiserver);
    const certFile = join(certDir, "apiserver.crt");
    const caPem = await waitUntil(
      "kube-apiserver /readyz",
      async () => {
        if (!existsSync(certFile)) return undefined;
        const ca = readFileSync(certFile, "utf8");
        const r = await httpGet(`${server}/readyz`, { ca, token: adminToken });
        return r.status === 200 ? ca : undefined;
      },
      { timeoutMs: 120_000, watch: [apiserver] },
    );
    const apiserverReadyMs = Date.now() - t0;
    const caData = Buffer.from(caPem).toString("base64");

    // --- kubeconfigs and kubectl
    const kubeconfigDir = join(dir, "kubeconfigs");
    mkdirSync(kubeconfigDir);
    let kubeconfigCount = 0;
    const kubeconfig = (bearer: string, at: string = server): string => {
      const path = join(kubeconfigDir, `kubeconfig-${++kubeconfigCount}.yaml`);
      writeFileSync(path, kubeconfigJson(at, caData, bearer), { mode: 0o600 });
      return path;
    };
    const adminKubeconfig = kubeconfig(adminToken);
    if (opts.controllers) {
      const args = controllerManagerFlags({ kubeconfig: adminKubeconfig, serviceAccountKey: saKey, garbageCollector: opts.garbageCollector });
      started.push(spawnManaged("kube-controller-manager", join(kubeDir, "kube-controller-manager"), args, { logPath: logs.controllerManager }));
    }
    const kubectlEnv = { ...process.env };
    delete kubectlEnv.KUBECONFIG;
    const kubectlCache = join(dir, "kubectl-cache");
    const kubectl = (args: readonly string[], o: KubectlOptions = {}) =>
      runCommand(kubectlBin, [`--kubeconfig=${o.kubeconfig ?? adminKubeconfig}`, `--cache-dir=${kubectlCache}`, ...args], {
        input: o.input,
        env: kubectlEnv,
        timeoutMs: o.timeoutMs,
      });
    const kubectlOk = async (args: readonly string[], o: KubectlOptions = {}) => {
      const r = await kubectl(args, o);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`.slice(0, 8000));
      return r.stdout;
    };
    const applyYaml = (yaml: string, o: { fieldManager?: string; kubeconfig?: string } = {}) =>
      kubectlOk(["apply", "--server-side", "--force-conflicts", `--field-manager=${o.fieldManager ?? HARNESS_FIELD_MANAGER}`, "-f", "-"], {
        input: yaml,
        kubeconfig: o.kubeconfig,
      });

    // --- Gatekeeper's CRDs and namespace
    await kubectlOk(["apply", "--server-side", `--field-manager=${HARNESS_FIELD_MANAGER}`, "-f", crdsDir]);
    await kubectlOk(["wait", "--for=condition=established", "--timeout=120s", "-f", crdsDir]);
    await applyYaml(
      JSON.stringify({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: GATEKEEPER_NAMESPACE, labels: { [IGNORE_LABEL]: "no-self-managing" } },
      }),
    );
    const crdsMs = Date.now() - t0;

    // --- Gatekeeper
    const apiCacheDir = join(dir, "gatekeeper-api-cache");
    mkdirSync(apiCacheDir);
    const certs = webhook ? await makeWebhookCerts(dir) : undefined;
    const webhookUrl = certs ? `https://127.0.0.1:${webhookPort}/v1/admit` : undefined;
    const gatekeeperArgs = gatekeeperFlags({
      kubeconfig: adminKubeconfig,
      auditIntervalSeconds: opts.auditIntervalSeconds ?? 5,
      apiCacheDir,
      healthPort,
      prometheusPort: promPort,
      webhook: certs ? { port: webhookPort, certDir: certs.certDir } : undefined,
      admissionEvents: opts.admissionEvents,
      vap: opts.vap,
    });
    let webhookConfigured = false;
    let starting: Promise<void> | undefined;
    const startGatekeeper = (): Promise<void> => {
      if (stopped) return Promise.reject(new Error("startGatekeeper: the cluster is stopped"));
      starting ??= launchGatekeeper().finally(() => (starting = undefined));
      return starting;
    };
    const launchGatekeeper = async () => {
      if (gatekeeper && !gatekeeper.exitInfo()) return;
      const gk = spawnManaged("gatekeeper", gatekeeperBin, gatekeeperArgs, {
        logPath: logs.gatekeeper,
        env: { ...process.env, POD_NAMESPACE: GATEKEEPER_NAMESPACE },
        cwd: dir,
      });
      gatekeeper = gk;
      const health = `http://127.0.0.1:${healthPort}`;
      try {
        await waitUntil(
          "Gatekeeper /readyz and /healthz",
          async () => (await httpGet(`${health}/readyz`)).status === 200 && (await httpGet(`${health}/healthz`)).status === 200,
          { timeoutMs: 180_000, watch: [gk] },
        );
        if (certs) {
          await waitUntil("Gatekeeper's webhook (TLS on 127.0.0.1)", () => tlsReachable(webhookPort, certs.caPem), {
            timeoutMs: 60_000,
            watch: [gk],
          });
        }
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new Error(`${msg}\n--- gatekeeper log ${logs.gatekeeper}, last lines:\n${tailFile(logs.gatekeeper, 30)}`);
      }
      if (certs && !webhookConfigured) {
        await applyYaml(JSON.stringify(webhookConfiguration(webhookUrl!, certs.caPem, opts.failurePolicy ?? "Ignore")));
        webhookConfigured = true;
      }
    };
    let gatekeeperHealthyMs: number | undefined;
    if (opts.gatekeeper ?? true) {
      await startGatekeeper();
      gatekeeperHealthyMs = Date.now() - t0;
    }

    const cluster: Cluster = {
      dir,
      server,
      caData,
      caPem,
      servingTls: { cert: caPem, key: readFileSync(join(certDir, "apiserver.key"), "utf8") },
      adminToken,
      adminKubeconfig,
      userTokens,
      logs,
      webhookUrl,
      timings: { etcdMs, apiserverReadyMs, crdsMs, gatekeeperHealthyMs, totalMs: Date.now() - t0 },
      kubeconfig,
      kubectl,
      kubectlOk,
      async kubectlJson(args, o) {
        return JSON.parse(await kubectlOk([...args, "-o", "json"], o));
      },
      applyYaml,
      async createToken(serviceAccount, namespace, o = {}) {
        await applyYaml(
          [
            JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }),
            JSON.stringify({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: serviceAccount, namespace } }),
          ].join("\n---\n"),
        );
        const args = ["create", "token", serviceAccount, "-n", namespace];
        if (o.duration) args.push(`--duration=${o.duration}`);
        return (await kubectlOk(args)).trim();
      },
      gatekeeperRunning: () => gatekeeper !== undefined && !gatekeeper.exitInfo(),
      async stopGatekeeper() {
        if (gatekeeper) await gatekeeper.stop();
      },
      startGatekeeper,
      async stop() {
        if (stopped) return;
        stopped = true;
        await stopAll();
        unregisterExitCleanup();
        if (!keep) rmSync(dir, { recursive: true, force: true });
      },
    };
    return cluster;
  } catch (err) {
    return fail(err);
  }
}
