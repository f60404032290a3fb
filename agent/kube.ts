// The agent's view of the cluster: only the Gatekeeper kinds Gatehouse manages, only objects
// labelled managed-by gatehouse, and every write with one server-side-apply field manager.
import {
  ApiException,
  AppsV1Api,
  DiscoveryV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  VersionApi,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, type KubeObject } from "../src/protocol/agent.ts";

export const TEMPLATE_API = "templates.gatekeeper.sh/v1";
export const CONSTRAINT_API = "constraints.gatekeeper.sh/v1beta1";
export const EXPANSION_API = "expansion.gatekeeper.sh/v1beta1";
const TEMPLATE_CRD = "constrainttemplates.templates.gatekeeper.sh";
const MANAGED = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

export type LiveObject = KubernetesObject & { spec?: unknown; status?: Record<string, unknown> };

/** Gatekeeper's controller Deployment, as far as the agent needs it. */
export interface GatekeeperController {
  /** Its image tag. */
  version: string | null;
  /** The container's command and args: which flags it runs with. */
  args: string[];
}

/** Whether Gatekeeper records an Event per admission violation (the denial history needs it). */
export function emitsAdmissionEvents(args: readonly string[]): boolean {
  let on = false;
  for (const a of args) {
    const m = /^--?emit-admission-events(?:=(.*))?$/.exec(a);
    if (m) on = m[1] === undefined || m[1] === "true";
  }
  return on;
}

export interface CrdState {
  name: string;
  established: boolean;
}

/** The HTTP status of a Kubernetes API error, if it is one. */
export function kubeStatus(e: unknown): number | undefined {
  if (e instanceof ApiException) return e.code;
  const code = (e as { code?: unknown; statusCode?: unknown })?.code ?? (e as { statusCode?: unknown })?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** A one-line reason from a Kubernetes API error (its Status message when there is one). */
export function kubeMessage(e: unknown): string {
  if (e instanceof ApiException) {
    const body = e.body as { message?: string } | string | undefined;
    const msg = typeof body === "string" ? safeMessage(body) : body?.message;
    return `${e.code}: ${msg ?? e.message}`.slice(0, 2000);
  }
  return (e instanceof Error ? e.message : String(e)).slice(0, 2000);
}

function safeMessage(body: string): string {
  try {
    return (JSON.parse(body) as { message?: string }).message ?? body;
  } catch {
    return body;
  }
}

export interface Kube {
  kubernetesVersion(): Promise<string | null>;
  /** Whether Gatekeeper's ConstraintTemplate CRD exists (403/404 → false is decided by the caller). */
  gatekeeperInstalled(): Promise<boolean>;
  /** The image tag of Gatekeeper's controller Deployment, when the agent may read it. */
  gatekeeperController(namespace: string): Promise<GatekeeperController | null>;
  /**
   * Ready endpoints behind Gatekeeper's webhook Service, from its EndpointSlices; null when there
   * is none (Gatekeeper installed without that Service) or the agent may not read them.
   */
  gatekeeperWebhookEndpoints(namespace: string, service: string): Promise<number | null>;
  listManaged(apiVersion: string, kind: string): Promise<LiveObject[]>;
  /** Every object of a kind, managed or not. */
  listAll(apiVersion: string, kind: string): Promise<LiveObject[]>;
  /** Any object with this name, managed or not (to refuse taking over someone else's). */
  get(apiVersion: string, kind: string, name: string): Promise<LiveObject | null>;
  apply(obj: KubeObject): Promise<LiveObject>;
  replace(obj: LiveObject): Promise<LiveObject>;
  delete(obj: LiveObject): Promise<void>;
  /** Events in a namespace (Gatekeeper's admission Events live in its own). */
  listEvents(namespace: string): Promise<LiveObject[]>;
  /** A namespaced object by name; null when absent or not readable (RBAC): callers degrade. */
  readNamespaced(apiVersion: string, kind: string, namespace: string, name: string): Promise<LiveObject | null>;
  /** The constraint CRDs Gatekeeper generated, by name (<kind lowercased>.constraints.gatekeeper.sh). */
  constraintCrds(): Promise<Map<string, CrdState>>;
}

export function kubeConfigFromEnvironment(): KubeConfig {
  const kc = new KubeConfig();
  // KUBECONFIG, then ~/.kube/config, then the in-cluster service account.
  kc.loadFromDefault();
  return kc;
}

export function createKube(kc: KubeConfig): Kube {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const version = kc.makeApiClient(VersionApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const header = (apiVersion: string, kind: string, name: string) => ({ apiVersion, kind, metadata: { name } });

  return {
    async kubernetesVersion() {
      return (await version.getCode()).gitVersion ?? null;
    },
    async gatekeeperInstalled() {
      try {
        await objects.read(header("apiextensions.k8s.io/v1", "CustomResourceDefinition", TEMPLATE_CRD));
        return true;
      } catch (e) {
        if (kubeStatus(e) === 404) return false;
        throw e;
      }
    },
    async gatekeeperController(namespace) {
      try {
        const list = await apps.listNamespacedDeployment({ namespace, labelSelector: "control-plane=controller-manager" });
        const container = list.items[0]?.spec?.template.spec?.containers.find((c) => c.image?.includes("gatekeeper"));
        if (!container) return null;
        return { version: container.image?.split(":").at(1) ?? null, args: [...(container.command ?? []), ...(container.args ?? [])] };
      } catch {
        return null; // not readable (RBAC, no such namespace): version and flags are simply unknown
      }
    },
    async gatekeeperWebhookEndpoints(namespace, service) {
      try {
        const slices = await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
        if (slices.items.length === 0) return null;
        // conditions.ready unset means ready (the EndpointSlice API says so).
        return slices.items.reduce((n, s) => n + (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).length, 0);
      } catch {
        return null; // not readable (RBAC) or no such namespace: unknown, not unhealthy
      }
    },
    async listManaged(apiVersion, kind) {
      const list = await objects.list<LiveObject>(apiVersion, kind, undefined, undefined, undefined, undefined, undefined, MANAGED);
      return list.items.map((o) => ({ ...o, apiVersion, kind }));
    },
    async listAll(apiVersion, kind) {
      return (await objects.list<LiveObject>(apiVersion, kind)).items.map((o) => ({ ...o, apiVersion, kind }));
    },
    async get(apiVersion, kind, name) {
      try {
        return await objects.read<LiveObject>(header(apiVersion, kind, name));
      } catch (e) {
        if (kubeStatus(e) === 404) return null;
        throw e;
      }
    },
    async apply(obj) {
      // Force: the desired state is the API's to decide, so conflicting owners lose their fields.
      return objects.patch<LiveObject>(obj as KubernetesObject, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    },
    async replace(obj) {
      return objects.replace<LiveObject>(obj, undefined, undefined, FIELD_MANAGER);
    },
    async delete(obj) {
      try {
        await objects.delete(obj);
      } catch (e) {
        if (kubeStatus(e) !== 404) throw e;
      }
    },
    async listEvents(namespace) {
      try {
        return (await objects.list<LiveObject>("v1", "Event", namespace)).items;
      } catch (e) {
        // An agent installed before its Role could list Events: no admission history, no failure.
        if (kubeStatus(e) === 403) return [];
        throw e;
      }
    },
    async readNamespaced(apiVersion, kind, namespace, name) {
      try {
        return await objects.read<LiveObject>({ apiVersion, kind, metadata: { name, namespace } });
      } catch (e) {
        const status = kubeStatus(e);
        if (status === 404 || status === 403) return null;
        throw e;
      }
    },
    async constraintCrds() {
      const list = await objects.list<KubernetesObject & { status?: { conditions?: { type: string; status: string }[] } }>(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        "gatekeeper.sh/constraint=yes",
      );
      const out = new Map<string, CrdState>();
      for (const crd of list.items) {
        const name = crd.metadata?.name ?? "";
        out.set(name, { name, established: crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false });
      }
      return out;
    },
  };
}
