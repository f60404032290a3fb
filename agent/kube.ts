// The agent's view of the cluster: only the Gatekeeper kinds Gatehouse manages, only objects
// labelled managed-by gatehouse, and every write with one server-side-apply field manager.
// What a pass reads every time is served from informers (informer.ts: LIST once, then WATCH),
// so a pass that changes nothing sends one request (Gatekeeper's Events, listed); the rare reads
// (is a name taken, who owns a refused pod, foreign constraints before a prune) go to the API
// server directly.
import { FIELD_MANAGER, MANAGED_BY_LABEL, MANAGED_BY_VALUE, type KubeObject } from "../src/protocol/agent.ts";
import { createInformer, type Informer } from "./informer.ts";
import { connectionFromEnvironment, createKubeClient, KubeError, resourcePath, type KubeClient, type KubeConnection } from "./kube-client.ts";

export const TEMPLATE_API = "templates.gatekeeper.sh/v1";
export const CONSTRAINT_API = "constraints.gatekeeper.sh/v1beta1";
export const EXPANSION_API = "expansion.gatekeeper.sh/v1beta1";
const TEMPLATE_CRD = "constrainttemplates.templates.gatekeeper.sh";
const MANAGED = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  /** An RFC 3339 string as the API server sends it (a Date only from hand-made objects). */
  creationTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  managedFields?: { manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }[];
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid?: string; controller?: boolean }[];
}

export interface LiveObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: unknown;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

/** A core/v1 Event, as far as the admission readers use it (admission-events.ts, vap-denials.ts). */
export interface KubeEvent extends LiveObject {
  reason?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  series?: { count?: number; lastObservedTime?: string };
  message?: string;
  involvedObject?: { apiVersion?: string; kind?: string; namespace?: string; name?: string };
}

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
  if (e instanceof KubeError) return e.code;
  const code = (e as { code?: unknown; statusCode?: unknown })?.code ?? (e as { statusCode?: unknown })?.statusCode;
  return typeof code === "number" ? code : undefined;
}

/** A one-line reason from a Kubernetes API error (its Status message when there is one). */
export function kubeMessage(e: unknown): string {
  if (e instanceof KubeError && e.code !== undefined) {
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
  /**
   * Events in a namespace (Gatekeeper's admission Events live in its own), or in every namespace
   * when it is "" (controllers' FailedCreate Events, vap-denials.ts), optionally by field selector.
   */
  listEvents(namespace: string, fieldSelector?: string): Promise<LiveObject[]>;
  /** A namespaced object by name; null when absent or not readable (RBAC): callers degrade. */
  readNamespaced(apiVersion: string, kind: string, namespace: string, name: string): Promise<LiveObject | null>;
  /** The constraint CRDs Gatekeeper generated, by name (<kind lowercased>.constraints.gatekeeper.sh). */
  constraintCrds(): Promise<Map<string, CrdState>>;
  /** Whether a CRD of this name exists (optional: a Kube without it has none, e.g. no PolicyReports). */
  crdInstalled?(name: string): Promise<boolean>;
  /** Ends the watches (the process is stopping). */
  stop?(): void;
}

/** The connection the agent runs with: KUBECONFIG, ~/.kube/config, else the in-cluster service account. */
export const kubeConnectionFromEnvironment = (): Promise<KubeConnection> => connectionFromEnvironment();

export interface KubeOptions {
  /** How often each informer rebuilds its copy from a LIST (default 30 min). */
  resyncMs?: number;
  onWatchError?: (path: string, e: unknown) => void;
}

type Crd = LiveObject & { status?: { conditions?: { type: string; status: string }[] } };
const CRD_API = "apiextensions.k8s.io/v1";
const established = (crd: Crd) => crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ?? false;

// What the informers keep of kinds the agent asks one question of. A CRD carries its whole
// OpenAPI schema (Gatekeeper's constraint CRDs each repeat the `match` schema): ~20 of them held
// whole for the life of the process would be most of the agent's heap, and only "does it exist,
// is it Established" is read. Of Gatekeeper's Deployment only its containers' image and flags.
const identity = (o: LiveObject): ObjectMeta => ({
  name: o.metadata?.name,
  namespace: o.metadata?.namespace,
  resourceVersion: o.metadata?.resourceVersion,
});
export const crdSummary = (o: LiveObject): LiveObject => ({
  metadata: identity(o),
  status: { conditions: ((o as Crd).status?.conditions ?? []).map(({ type, status }) => ({ type, status })) },
});
type Container = { image?: string; command?: string[]; args?: string[] };
export const deploymentSummary = (o: LiveObject): LiveObject => {
  const containers = (o.spec as { template?: { spec?: { containers?: Container[] } } } | undefined)?.template?.spec?.containers ?? [];
  return { metadata: identity(o), spec: { template: { spec: { containers: containers.map(({ image, command, args }) => ({ image, command, args })) } } } };
};

export function createKube(conn: KubeConnection | KubeClient, opts: KubeOptions = {}): Kube {
  const client = "request" in conn ? conn : createKubeClient(conn);
  const resyncMs = opts.resyncMs ?? 30 * 60_000;
  const informers = new Map<string, Informer>();
  const informer = (
    apiVersion: string,
    kind: string,
    sel: { namespace?: string; labelSelector?: string; fieldSelector?: string },
    transform?: (o: LiveObject) => LiveObject,
  ) => {
    const id = `${apiVersion}|${kind}|${sel.namespace ?? ""}|${sel.labelSelector ?? ""}|${sel.fieldSelector ?? ""}`;
    let i = informers.get(id);
    if (!i) {
      const path = resourcePath(apiVersion, kind, sel.namespace);
      i = createInformer(client, {
        path,
        apiVersion,
        kind,
        labelSelector: sel.labelSelector,
        fieldSelector: sel.fieldSelector,
        resyncMs,
        transform,
        onError: (e) => opts.onWatchError?.(path, e),
      });
      informers.set(id, i);
    }
    return { id, informer: i };
  };
  const managed = (apiVersion: string, kind: string) => informer(apiVersion, kind, { labelSelector: MANAGED });
  const crd = (name: string) => informer(CRD_API, "CustomResourceDefinition", { fieldSelector: `metadata.name=${name}` }, crdSummary).informer;
  // Our own writes go into the managed informer at once (the watch confirms them a moment later).
  const written = (o: LiveObject) => {
    if (o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE) managed(o.apiVersion ?? "", o.kind ?? "").informer.upsert(o);
    return o;
  };
  const pathOf = (o: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } }) =>
    resourcePath(o.apiVersion ?? "", o.kind ?? "", o.metadata?.namespace, o.metadata?.name);
  const stamp = (o: LiveObject, apiVersion: string, kind: string): LiveObject => ({ ...o, apiVersion, kind });
  let version: { value: string | null; at: number } | null = null;

  return {
    async kubernetesVersion() {
      if (!version || Date.now() - version.at > resyncMs) {
        version = { value: (await client.request<{ gitVersion?: string }>("GET", "/version")).gitVersion ?? null, at: Date.now() };
      }
      return version.value;
    },
    async gatekeeperInstalled() {
      return (await crd(TEMPLATE_CRD).list()).length > 0;
    },
    async crdInstalled(name) {
      return (await crd(name).list()).length > 0;
    },
    async gatekeeperController(namespace) {
      try {
        const list = await informer(
          "apps/v1",
          "Deployment",
          { namespace, labelSelector: "control-plane=controller-manager" },
          deploymentSummary,
        ).informer.list();
        const spec = list[0]?.spec as { template?: { spec?: { containers?: Container[] } } } | undefined;
        const container = spec?.template?.spec?.containers?.find((c) => c.image?.includes("gatekeeper"));
        if (!container) return null;
        return { version: container.image?.split(":").at(1) ?? null, args: [...(container.command ?? []), ...(container.args ?? [])] };
      } catch {
        return null; // not readable (RBAC, no such namespace): version and flags are simply unknown
      }
    },
    async gatekeeperWebhookEndpoints(namespace, service) {
      try {
        const slices = await informer("discovery.k8s.io/v1", "EndpointSlice", {
          namespace,
          labelSelector: `kubernetes.io/service-name=${service}`,
        }).informer.list();
        if (slices.length === 0) return null;
        // conditions.ready unset means ready (the EndpointSlice API says so).
        type Endpoint = { conditions?: { ready?: boolean } };
        return slices.reduce((n, s) => n + ((s.endpoints as Endpoint[] | undefined) ?? []).filter((e) => e.conditions?.ready !== false).length, 0);
      } catch {
        return null; // not readable (RBAC) or no such namespace: unknown, not unhealthy
      }
    },
    async listManaged(apiVersion, kind) {
      const { id, informer: i } = managed(apiVersion, kind);
      try {
        return await i.list();
      } catch (e) {
        if (kubeStatus(e) !== 404) throw e;
        // The kind is gone (its CRD was deleted): no informer for it until it is asked for again.
        i.stop();
        informers.delete(id);
        return [];
      }
    },
    async listAll(apiVersion, kind) {
      const list = await client.request<{ items: LiveObject[] }>("GET", resourcePath(apiVersion, kind));
      return list.items.map((o) => stamp(o, apiVersion, kind));
    },
    async get(apiVersion, kind, name) {
      try {
        return stamp(await client.request<LiveObject>("GET", resourcePath(apiVersion, kind, undefined, name)), apiVersion, kind);
      } catch (e) {
        if (kubeStatus(e) === 404) return null;
        throw e;
      }
    },
    async apply(obj: KubeObject) {
      // Force: the desired state is the API's to decide, so conflicting owners lose their fields.
      const live = await client.request<LiveObject>("PATCH", pathOf(obj), {
        body: obj,
        contentType: "application/apply-patch+yaml",
        query: { fieldManager: FIELD_MANAGER, force: true },
      });
      return written(stamp(live, obj.apiVersion, obj.kind));
    },
    async replace(obj) {
      const live = await client.request<LiveObject>("PUT", pathOf(obj), { body: obj, query: { fieldManager: FIELD_MANAGER } });
      return written(stamp(live, obj.apiVersion ?? "", obj.kind ?? ""));
    },
    async delete(obj) {
      try {
        await client.request("DELETE", pathOf(obj));
      } catch (e) {
        if (kubeStatus(e) !== 404) throw e;
      }
      managed(obj.apiVersion ?? "", obj.kind ?? "").informer.remove(obj);
    },
    async listEvents(namespace, fieldSelector) {
      // A LIST each pass, not a watch: Kubernetes folds repeated Events into new aggregate Events
      // and bumps counts in bursts, and the denial history must count exactly what the API
      // server holds at the moment of the pass (test/cluster/denials.cluster.test.ts restarts the
      // agent and checks it). One read per pass in Gatekeeper's namespace, and, while some control
      // is at the API server, one of every namespace's FailedCreate Events (vap-denials.ts; the
      // field selector keeps the answer to those).
      try {
        const query = fieldSelector ? { fieldSelector } : undefined;
        return (await client.request<{ items: LiveObject[] }>("GET", resourcePath("v1", "Event", namespace), { query })).items.map((o) =>
          stamp(o, "v1", "Event"),
        );
      } catch (e) {
        // An agent installed before its Role could list Events: no admission history, no failure.
        if (kubeStatus(e) === 403) return [];
        throw e;
      }
    },
    async readNamespaced(apiVersion, kind, namespace, name) {
      try {
        return stamp(await client.request<LiveObject>("GET", resourcePath(apiVersion, kind, namespace, name)), apiVersion, kind);
      } catch (e) {
        const status = kubeStatus(e);
        if (status === 404 || status === 403) return null;
        throw e;
      }
    },
    async constraintCrds() {
      const list = (await informer(
        CRD_API,
        "CustomResourceDefinition",
        { labelSelector: "gatekeeper.sh/constraint=yes" },
        crdSummary,
      ).informer.list()) as Crd[];
      return new Map(list.map((c) => [c.metadata?.name ?? "", { name: c.metadata?.name ?? "", established: established(c) }]));
    },
    stop() {
      for (const i of informers.values()) i.stop();
      informers.clear();
    },
  };
}
