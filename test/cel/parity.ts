// Verdict parity between the two engines a Gatehouse template can carry: gator evaluates the
// same rendered policy over the same objects once with Rego (its CEL driver off) and once with
// CEL (on, so it prefers a template's K8sNativeValidation code), and every object must be
// refused by the same constraints. For a constraint whose template carries CEL the message must
// be the Rego findings' messages, each verbatim (CEL joins them into one, as a
// ValidatingAdmissionPolicy has one message per failed validation); past the API server's 5 KiB
// message limit, the leading findings that fit, each verbatim, and the count of the rest.
//
// Any corpus can be fed: verifyParity(label, policy, objects) with uniquely named objects, e.g.
// the PSS differential corpora rendered with a preset and enforcementPoint "both".
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_MESSAGE_BYTES } from "../../src/policies/cel.ts";
import type { Json } from "../../src/policies/sample.ts";
import { gatorTest, type GatorResult } from "../harness/gator.ts";

type Obj = Json & { kind?: string; metadata?: { name?: string; namespace?: string } };
const id = (o: { kind?: string; metadata?: { name?: string; namespace?: string } }) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;

/** Names of the constraints whose template carries CEL (the others are Rego under both runs). */
function celConstraints(policy: readonly object[]): Set<string> {
  const celKinds = new Set(
    (policy as Obj[])
      .filter((o) => o.kind === "ConstraintTemplate")
      .filter((t) => JSON.stringify(t).includes('"K8sNativeValidation"'))
      .map((t) => (t as { spec: { crd: { spec: { names: { kind: string } } } } }).spec.crd.spec.names.kind),
  );
  return new Set((policy as Obj[]).filter((o) => celKinds.has(String(o.kind))).map((o) => String(o.metadata?.name)));
}

const byObject = (results: GatorResult[], key: string) => results.filter((r) => id(r.violatingObject) === key);
const refusedBy = (results: GatorResult[]) => [...new Set(results.map((r) => r.constraint.metadata.name))].sort();

export function verifyParity(label: string, policy: readonly object[], objects: readonly Json[]) {
  describe(`${label}: the same verdicts under CEL as under Rego (gator)`, () => {
    const cel = celConstraints(policy);
    let rego: GatorResult[] = [];
    let viaCel: GatorResult[] = [];
    beforeAll(() => {
      rego = gatorTest(policy, objects, "rego");
      viaCel = gatorTest(policy, objects, "cel");
    });

    it("has uniquely named objects and at least one template with CEL", () => {
      expect(new Set(objects.map((o) => id(o as Obj))).size).toBe(objects.length);
      expect(cel.size).toBeGreaterThan(0);
    });

    it.each(objects.map((o) => [id(o as Obj), o] as const))("%s", (key) => {
      const r = byObject(rego, key);
      const c = byObject(viaCel, key);
      expect(refusedBy(c)).toEqual(refusedBy(r));
      for (const name of refusedBy(r)) {
        const regoMsgs = r.filter((x) => x.constraint.metadata.name === name).map((x) => x.msg);
        const celMsgs = c.filter((x) => x.constraint.metadata.name === name).map((x) => x.msg);
        if (!cel.has(name)) {
          expect(celMsgs.sort()).toEqual(regoMsgs.sort());
          continue;
        }
        // Gator prefixes a workload's findings per result, so each expansion gives one CEL message.
        const implied = new Set(regoMsgs.map((m) => /^\[Implied by [^\]]+\] /.exec(m)?.[0] ?? ""));
        expect(celMsgs).toHaveLength(implied.size);
        for (const m of celMsgs) {
          expect(m, "CEL failed to evaluate").not.toMatch(/resulted in error|fails to (compile|evaluate)/);
          const prefix = /^\[Implied by [^\]]+\] /.exec(m)?.[0] ?? "";
          const mine = regoMsgs.filter((x) => x.startsWith(prefix)).map((x) => x.slice(prefix.length));
          const body = m.slice(prefix.length);
          // Past the API server's message limit, CEL shows the findings that fit and counts the rest.
          const cut = /^(.*) \(and (\d+) more findings of Gatehouse control [a-z-]+, cut to fit the API server's 5 KiB message limit\)$/.exec(body);
          const shown = cut ? mine.filter((x) => body.includes(x)) : mine;
          if (cut) {
            expect(new TextEncoder().encode(body).length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
            expect(shown.length + Number(cut[2])).toBe(mine.length);
          }
          // Every (shown) Rego finding verbatim, and nothing else (lengths add up with one space between).
          for (const x of shown) expect(body).toContain(x);
          expect((cut ? cut[1]! : body).length).toBe(shown.reduce((n, x) => n + x.length, 0) + shown.length - 1);
        }
        // The CEL results really came from CEL: its driver reports no Rego details.
        expect(c.filter((x) => x.constraint.metadata.name === name).every((x) => x.metadata?.details === undefined)).toBe(true);
      }
    });
  });
}
