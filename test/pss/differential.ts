// The differential comparison: a preset rendered as a cluster would get it (but with the
// namespace exemptions removed, so only policy semantics are compared), run through real gator
// over many objects at once, against psa-verdict's verdicts for the same objects.
import { EnvironmentSettings, renderEnvironment } from "../../src/policies/index.ts";
import { applyPreset } from "../../src/policies/presets/index.ts";
import { gatorTest } from "../harness/gator.ts";
import type { PsaVerdicts, PssLevel } from "../harness/psa.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
export const NAMESPACE = "pss-differential";

/** The preset's objects with no namespace exempt (the defaults are proven separately). */
export function renderPreset(level: PssLevel, settings: Record<string, unknown> = {}) {
  const doc = EnvironmentSettings.parse(applyPreset({ ...settings, exemptions: { namespaces: [] } }, level));
  return renderEnvironment(doc, NOW).objects;
}

export interface Case {
  name: string;
  /** Where the object came from: a fixture file or a generator index. */
  origin: string;
  object: Record<string, unknown>;
  psa: PsaVerdicts;
}

export interface Disagreement {
  kind: "false deny" | "miss";
  case: Case;
  psaReasons: string[];
  gatorMessages: string[];
}

/** Names every object uniquely (gator reports violations by name) in one namespace. */
export function named(object: Record<string, unknown>, name: string): Record<string, unknown> {
  return { ...object, metadata: { ...(object.metadata as object), name, namespace: NAMESPACE } };
}

/** One gator run over every case: the deny-action messages per case name. */
export function gatorDenials(policy: readonly object[], cases: readonly Case[]): Map<string, string[]> {
  const results = gatorTest(
    policy,
    cases.map((c) => named(c.object, c.name)),
  );
  const denied = new Map<string, string[]>();
  for (const r of results) {
    if (r.enforcementAction !== "deny") continue;
    const name = r.violatingObject.metadata.name;
    denied.set(name, [...(denied.get(name) ?? []), r.msg]);
  }
  return denied;
}

/** Where gator's denials and PSA's verdicts at `version` part. */
export function disagreements(denied: Map<string, string[]>, cases: readonly Case[], level: PssLevel, version: string): Disagreement[] {
  const out: Disagreement[] = [];
  for (const c of cases) {
    const psa = c.psa[level][version];
    if (!psa) throw new Error(`no psa verdict for ${level} ${version}`);
    const gator = denied.get(c.name) ?? [];
    if (psa.allowed && gator.length > 0) out.push({ kind: "false deny", case: c, psaReasons: [], gatorMessages: gator });
    if (!psa.allowed && gator.length === 0) out.push({ kind: "miss", case: c, psaReasons: psa.reasons, gatorMessages: [] });
  }
  return out;
}

/** A report a person can act on: counts, then the first few cases in full. */
export function report(found: readonly Disagreement[], header: string, limit = 6): string {
  const falseDenies = found.filter((d) => d.kind === "false deny").length;
  const lines = [`${header}: ${falseDenies} false denies, ${found.length - falseDenies} misses`];
  // By class first: which PSA check was missed, which Gatehouse control denied wrongly.
  const classes = new Map<string, number>();
  for (const d of found) {
    const keys =
      d.kind === "miss" ? d.psaReasons.map((r) => r.replace(/ \(.*$/, "")) : d.gatorMessages.map((m) => m.match(/Gatehouse control ([a-z-]+)/)?.[1] ?? "?");
    const key = `${d.kind}: ${[...new Set(keys)].sort().join(" + ")}`;
    classes.set(key, (classes.get(key) ?? 0) + 1);
  }
  for (const [key, n] of [...classes].sort()) lines.push(`  ${n} × ${key}`);
  for (const d of found.slice(0, limit)) {
    lines.push(
      `--- ${d.kind}: ${d.case.origin}`,
      JSON.stringify(d.case.object),
      d.kind === "miss" ? `PSA refuses: ${d.psaReasons.join("; ")}` : `gator refuses: ${d.gatorMessages.join(" | ")}`,
    );
  }
  return lines.join("\n");
}
