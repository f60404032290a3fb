// Issue #7, part 1: every control denies at `kubectl create` through the real Gatekeeper webhook.
// Real etcd + kube-apiserver + Gatekeeper (webhook on), the API on PostgreSQL, and the agent's own
// pass applying what the user API stored. Every sample of every control (src/policies/<control>/
// samples.ts — the same pods gator proves) is created with kubectl as the admin user, and the
// API server's answer must match the sample: admitted, or refused by validation.gatekeeper.sh with
// exactly the expected findings, each naming control, container, field, value and how to exempt.
//
// Every control in the catalogue is enforced at once. Each control's samples live in namespaces
// team-<slug>-…, and every control exempts the other controls' team-<slug>-* namespaces, so a
// sample is judged by its own control only (a plain pod breaks several controls at once). Samples
// that need different options run in successive rounds: round r gives each control its r-th
// option set (the samples' own exemptions merged with the isolation ones).
//
// Pods with ephemeral containers cannot be created with them; they are created without, before
// any constraint exists, and each round adds the ephemeral containers through the
// pods/ephemeralcontainers subresource (what `kubectl debug` does), which the webhook checks.
// A few samples describe pods the API server's own validation refuses (API_INVALID below): there
// the test proves that refusal and its reason instead. Gatekeeper's audit runs every 120 s here:
// nothing in this file needs it, and on two shared cores it slows every round.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// First: the app (through the testbed) extends zod with .openapi() before the policies load.
import { startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { catalogue, type EnvironmentSettingsInput } from "../../src/policies/index.ts";
import type { AnyControl } from "../../src/policies/control.ts";
import type { Sample } from "../../src/policies/sample.ts";
import { POD_TEMPLATE_PATHS } from "../../src/policies/workload-paths.ts";
import pLimit from "p-limit";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import type { RunResult } from "../harness/cluster-process.ts";
import { DENIED, create, createNamespaces, denialLines, placed, podSpecOf, putSettings, waitEnforced, type Obj } from "../harness/admission.ts";
import { samplesOf } from "../harness/samples.ts";

const fileStart = Date.now();

/** Every control's samples, by control id: each control's src/policies/<slug>/samples.ts. */
const SAMPLES = new Map(await Promise.all(catalogue.map(async (c) => [c.id, await samplesOf(c.slug)] as const)));
// A control's samples run in namespaces team-<slug>-…, which every other control exempts as
// team-<slug>-*. That pattern would also cover a control whose slug extends this one's
// (team-host-* and team-host-paths-…): then the samples would not be judged by their own control alone.
for (const c of catalogue) {
  const shadowed = catalogue.filter((o) => o.slug.startsWith(`${c.slug}-`));
  if (shadowed.length > 0) throw new Error(`team-${c.slug}-* also matches the namespaces of ${shadowed.map((o) => o.slug).join(", ")}`);
}
const isolation = (c: AnyControl) => catalogue.filter((o) => o.id !== c.id).map((o) => ({ pattern: `team-${o.slug}-*`, reason: "test isolation" }));

/**
 * Samples the API server itself refuses, before any admission webhook is asked (Pod validation),
 * with the reason it gives. They stay proven by gator; here we prove the API refuses them.
 */
const API_INVALID: Record<string, RegExp> = {
  // Ephemeral containers may not declare ports, probes or lifecycle hooks.
  "host-network-ports/host-ports-out-of-range": /spec\.ephemeralContainers\[0\]\.ports: Forbidden: cannot be set for an Ephemeral Container/,
  "probe-hosts/probe-hosts-other-fields": /spec\.ephemeralContainers\[0\]\.lifecycle: Forbidden: cannot be set for an Ephemeral Container/,
  "host-paths/dot-dot-escape-refused": /spec\.volumes\[0\]\.hostPath\.path: Invalid value: "\/data\/\.\.\/etc": must not contain '\.\.'/,
  "flexvolume-drivers/unlisted-driver": /spec\.volumes\[2\]\.flexVolume\.driver: Required value/,
  "proc-mount/procmount-unknown-type": /securityContext\.procMount: Unsupported value: "Masked": supported values: "Default", "Unmasked"/,
  "proc-mount/procmount-unmasked-init-ephemeral":
    /spec\.initContainers\[0\]\.securityContext\.procMount: Invalid value: "Unmasked": `hostUsers` must be false to use `Unmasked`/,
  "apparmor/precedence-field-then-annotation": /appArmorProfile\.type: Forbidden: apparmor type in annotation and field must match/,
  // checkOverridden's corner cases (an annotation naming no container, one contradicting its field) are for gator and the parity suite.
  "apparmor/annotations-checked": /container\.apparmor\.security\.beta\.kubernetes\.io\/ghost\]: Invalid value: "ghost": container not found/,
  "windows-host-process/init-and-ephemeral-host-process": /If pod contains any hostProcess containers then all containers must be HostProcess containers/,
};

interface Group {
  options: unknown;
  exemptions: Sample["exemptions"];
  samples: Sample[];
}
function groupsOf(c: AnyControl): Group[] {
  const groups = new Map<string, Group>();
  for (const s of SAMPLES.get(c.id)!) {
    const key = JSON.stringify([s.options ?? {}, s.exemptions ?? {}]);
    if (!groups.has(key)) groups.set(key, { options: s.options ?? {}, exemptions: s.exemptions, samples: [] });
    groups.get(key)!.samples.push(s);
  }
  return [...groups.values()];
}
const GROUPS = new Map(catalogue.map((c) => [c.id, groupsOf(c)]));
const ROUNDS = Math.max(...[...GROUPS.values()].map((g) => g.length));

function roundSettings(r: number): EnvironmentSettingsInput {
  const controls: NonNullable<EnvironmentSettingsInput["controls"]> = {};
  for (const c of catalogue) {
    const groups = GROUPS.get(c.id)!;
    const g = groups[Math.min(r, groups.length - 1)]!;
    controls[c.id] = {
      enforcementAction: "deny",
      options: g.options,
      exemptions: { namespaces: [...(g.exemptions?.namespaces ?? []), ...isolation(c)], images: g.exemptions?.images ?? [] },
    };
  }
  return { enforcementAction: "deny", controls };
}

interface Outcome {
  control: AnyControl;
  sample: Sample;
  namespace: string;
  /** "create": the object as written; "ephemeral": the pod without its ephemeral containers was
   * created before any constraint existed, and they are added now through pods/ephemeralcontainers. */
  via: "create" | "ephemeral";
  result: RunResult;
}

let cluster: Cluster;
let bed: AgentTestbed;
const outcomes: Outcome[] = [];
const printed = new Set<string>();
/** Pods created without their ephemeral containers before any constraint existed. */
const ephemeralBase = new Set<string>();

const hasEphemeral = (o: Obj) => o.kind === "Pod" && (podSpecOf(o).ephemeralContainers?.length ?? 0) > 0;
const nsFor = (c: AnyControl, r: number, i: number) => `team-${c.slug}-r${r}-${i}`;

beforeAll(async () => {
  cluster = await startCluster({ webhook: true, auditIntervalSeconds: 120 });
  bed = await startAgentTestbed(cluster, { tenant: "admission-controls", settings: roundSettings(0) });
  // Pods with ephemeral containers cannot be created with them (the API forbids it on create):
  // create them without, now, before any constraint exists; each round adds the ephemeral
  // containers through the pods/ephemeralcontainers subresource, which the webhook checks.
  const namespaces: string[] = [];
  const pods: Obj[] = [];
  for (const c of catalogue) {
    GROUPS.get(c.id)!.forEach((g, r) => {
      g.samples.forEach((s, i) => {
        if (!hasEphemeral(s.object)) return;
        const ns = nsFor(c, r, i);
        const base = asSubmitted(s, ns);
        delete base.spec.ephemeralContainers;
        namespaces.push(ns);
        pods.push(base);
      });
    });
  }
  await createNamespaces(cluster, namespaces);
  // One at a time: a pod the API refuses (invalid even without its ephemeral containers) is then
  // created as written in its round, to record the API server's own reason.
  for (const p of pods) {
    const r = await create(cluster, p);
    if (r.code === 0) ephemeralBase.add(`${p.metadata.namespace}/${p.metadata.name}`);
  }
}, 900_000);

afterAll(async () => {
  await bed?.close();
  await cluster?.stop();
  console.log(`admission-controls: file took ${Math.round((Date.now() - fileStart) / 1000)} s`);
});

/** Where the rounds are (round -1: all done), for the per-control tests' messages. */
let round = 0;
let step = "starting";

/**
 * The agent's pass for this round's revision. A pass that fails (say, a Gatekeeper webhook
 * timing out on two loaded cores) is retried at the agent's next poll; so here, twice at most,
 * with the error printed: what is proven is that the agent converges on the revision. A pass
 * that throws (the API failing the agent) is not retried: that fails the test.
 */
async function settledPass(r: number, revision: number): Promise<Awaited<ReturnType<AgentTestbed["pass"]>>> {
  for (let attempt = 1; ; attempt++) {
    const pass = await bed.pass();
    if ((pass.ok && pass.revision === revision) || attempt === 3) return pass;
    console.log(`round ${r}: pass ${attempt} did not apply revision ${revision}: ${pass.error ?? "not at the revision"}`);
  }
}

/** Why an outcome does not match its sample; [] when it does. */
function problems(o: Outcome): string[] {
  const { control, sample, namespace, result } = o;
  const id = `${control.slug}/${sample.name} (${o.via})`;
  const apiInvalid = API_INVALID[`${control.slug}/${sample.name}`];
  if (apiInvalid) {
    if (result.code === 0) return [`${id}: expected the API server to refuse it, but it was admitted`];
    if (result.stderr.includes(DENIED)) return [`${id}: expected an API validation error, got a webhook denial: ${result.stderr}`];
    return apiInvalid.test(result.stderr) ? [] : [`${id}: API error does not match ${apiInvalid}: ${result.stderr}`];
  }
  if (sample.expect.length === 0) return result.code === 0 ? [] : [`${id}: expected admitted, got: ${result.stderr.trim()}`];
  if (result.code === 0) return [`${id}: expected refused, but it was admitted`];
  if (!result.stderr.includes(DENIED)) return [`${id}: refused, but not by the webhook: ${result.stderr.trim()}`];
  const out: string[] = [];
  const lines = denialLines(result.stderr);
  const foreign = lines.filter((l) => l.constraint !== control.slug);
  if (foreign.length > 0) out.push(`${id}: findings of other constraints: ${JSON.stringify(foreign)}`);
  const own = lines.filter((l) => l.constraint === control.slug).map((l) => l.message);
  if (own.length !== sample.expect.length) out.push(`${id}: ${own.length} findings, expected ${sample.expect.length}:\n${own.join("\n")}`);
  const unused = [...own];
  const isWorkload = sample.object.kind !== "Pod";
  // A workload's findings give paths in the workload: spec.hostPID is spec.template.spec.hostPID.
  const prefix = isWorkload ? POD_TEMPLATE_PATHS[`${sample.object.apiVersion}/${sample.object.kind}`]! : "";
  const podPath = (field: string) => (/^(spec|metadata)\./.test(field) ? prefix + field : field);
  for (const e of sample.expect) {
    // Container findings read `container "app" (containers[0], image …): <field> is <value>; …`,
    // pod-level ones `pod <ns>/<name>: <field> is <value>; …`.
    const i = unused.findIndex((m) =>
      e.container ? m.includes(`"${e.container}" (`) && m.includes(`): ${e.field} is `) : m.includes(`: ${podPath(e.field)} is `),
    );
    if (i < 0) out.push(`${id}: no finding for ${e.container ?? "(pod)"} ${e.field} in:\n${own.join("\n")}`);
    else unused.splice(i, 1);
  }
  const subject = isWorkload ? `${sample.object.kind} ${namespace}/${sample.name}` : `pod ${namespace}/${sample.name}`;
  for (const m of own) {
    if (!m.endsWith(`in Gatehouse control ${control.slug}.`)) out.push(`${id}: does not name the control: ${m}`);
    if (!m.includes(`To allow it, exempt namespace "${namespace}"`)) out.push(`${id}: no namespace exemption hint: ${m}`);
    if (/\(\w+\[\d+\], image /.test(m) && !/ or image "[^"]+" in Gatehouse control/.test(m)) out.push(`${id}: no image exemption hint: ${m}`);
    if (!/ is .+; /.test(m)) out.push(`${id}: no offending value: ${m}`);
    const implied = /^\[Implied by gatehouse-(pod|cronjob)-templates\] /.exec(m)?.[0];
    if (isWorkload && !implied) out.push(`${id}: not marked as implied by a workload: ${m}`);
    if (!m.startsWith(`${implied && isWorkload ? implied : ""}${subject}: `)) out.push(`${id}: does not name the ${isWorkload ? "workload" : "pod"}: ${m}`);
  }
  return out;
}

/**
 * The sample as the API server would receive it in a real cluster. This API server runs without
 * the ServiceAccount admission plugin, which would name the "default" service account on every
 * pod; without a name the API refuses a projected serviceAccountToken volume.
 */
function asSubmitted(s: Sample, ns: string): Obj {
  const obj = placed(s.object, s.name, ns);
  if (obj.kind === "Pod") obj.spec.serviceAccountName ??= "default";
  return obj;
}

async function runSample(c: AnyControl, s: Sample, ns: string): Promise<Outcome> {
  const obj = asSubmitted(s, ns);
  if (hasEphemeral(obj) && ephemeralBase.has(`${ns}/${s.name}`)) {
    const patch = { spec: { ephemeralContainers: obj.spec.ephemeralContainers } };
    const result = await cluster.kubectl([
      "patch",
      "pod",
      s.name,
      "-n",
      ns,
      "--subresource=ephemeralcontainers",
      "--type=strategic",
      "-p",
      JSON.stringify(patch),
    ]);
    return { control: c, sample: s, namespace: ns, via: "ephemeral", result };
  }
  return { control: c, sample: s, namespace: ns, via: "create", result: await create(cluster, obj) };
}

describe("every control's samples through the real Gatekeeper webhook (kubectl as admin)", () => {
  it(`${ROUNDS} rounds of settings through the API, applied by the agent, each sample created in its own namespace`, { timeout: 900_000 }, async () => {
    for (let r = 0; r < ROUNDS; r++) {
      const t = Date.now();
      round = r;
      step = "PUT settings";
      const revision = await putSettings(bed, roundSettings(r));
      step = "the agent's pass";
      const pass = await settledPass(r, revision);
      expect(pass, pass.error ?? "").toMatchObject({ ok: true, revision });
      const tPass = Date.now();
      step = "waiting for Gatekeeper to enforce every constraint";
      await waitEnforced(cluster, 180_000);
      const tEnforced = Date.now();
      const todo: { c: AnyControl; s: Sample; ns: string }[] = [];
      for (const c of catalogue) {
        const g = GROUPS.get(c.id)![r];
        g?.samples.forEach((s, i) => {
          todo.push({ c, s, ns: nsFor(c, r, i) });
        });
      }
      step = "creating the round's namespaces";
      await createNamespaces(
        cluster,
        todo.filter((x) => !hasEphemeral(x.s.object)).map((x) => x.ns),
      );

      step = "creating the samples";
      outcomes.push(...(await pLimit(4).map(todo, (x) => runSample(x.c, x.s, x.ns))));
      console.log(
        `round ${r}: ${pass.writes} writes, pass ${tPass - t} ms, enforced +${tEnforced - tPass} ms, ${todo.length} samples +${Date.now() - tEnforced} ms`,
      );
    }
    round = -1;
    const webhook = outcomes.filter((o) => o.result.stderr.includes(DENIED));
    const viaEphemeral = webhook.filter((o) => o.via === "ephemeral");
    console.log(
      `${outcomes.length} samples: ${outcomes.filter((o) => o.result.code === 0).length} admitted, ${webhook.length} refused by the webhook ` +
        `(${viaEphemeral.length} through pods/ephemeralcontainers), ${Object.keys(API_INVALID).length} refused by the API server's own validation`,
    );
    if (viaEphemeral[0])
      console.log(`DENIAL ephemeral (${viaEphemeral[0].control.slug}/${viaEphemeral[0].sample.name}):\n${viaEphemeral[0].result.stderr.trim()}`);
    const all = outcomes.flatMap(problems);
    if (all.length > 0) console.log(all.join("\n---\n"));
    expect(outcomes.length).toBe([...SAMPLES.values()].reduce((n, l) => n + l.length, 0));
  });

  for (const c of catalogue) {
    it(`${c.slug}: every sample is admitted or refused exactly as gator says`, () => {
      const mine = outcomes.filter((o) => o.control.id === c.id);
      // When the rounds stopped early, say where: CI keeps only the tail of the output.
      expect(mine.length, round >= 0 ? `the rounds stopped in round ${round} at ${step}` : undefined).toBe(SAMPLES.get(c.id)!.length);
      expect(mine.flatMap(problems)).toEqual([]);
      // At least one Pod refused by the webhook and one admitted, for every control.
      expect(mine.some((o) => o.sample.object.kind === "Pod" && o.result.stderr.includes(DENIED))).toBe(true);
      expect(mine.some((o) => o.sample.object.kind === "Pod" && o.result.code === 0)).toBe(true);
      // The README quotes one real denial per control.
      const shown = mine.find((o) => o.sample.object.kind === "Pod" && o.result.stderr.includes(DENIED) && o.sample.expect.length === 1);
      if (shown && !printed.has(c.slug)) {
        printed.add(c.slug);
        console.log(`DENIAL ${c.slug} (${shown.sample.name}):\n${shown.result.stderr.trim()}`);
      }
    });
  }
});
