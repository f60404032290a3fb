// An audit report's validation against AuditReport (src/protocol/agent.ts) in slices: the report
// without its violation lists, then each constraint without its list, then the lists a few hundred
// violations at a time, with the event loop's turn every few milliseconds (json-slices.ts). At once,
// 51,000 violations (16 MB) held every other tenant's requests for 0.3–0.7 s. The pieces are the
// schema's own (one source of truth) and their outputs are assembled as the whole schema's would be.
// Anything invalid is then validated whole, once, so a refused report gets exactly the schema's
// errors, in the schema's order: that pass is only ever run on a report that is refused.
import type { z } from "zod";
import { slicer } from "../app/json-slices.ts";
import { AUDIT_MAX_CONSTRAINTS, AUDIT_MAX_VIOLATIONS, AuditReport, AuditViolation, ConstraintAudit } from "../protocol/agent.ts";

const SLICE = 500;
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

export async function validateAuditReport(body: unknown): Promise<z.ZodSafeParseResult<AuditReport>> {
  const whole = () => AuditReport.safeParse(body);
  if (!isObject(body) || !Array.isArray(body.constraints) || body.constraints.length > AUDIT_MAX_CONSTRAINTS) return whole();
  const pause = slicer();
  const top = AuditReport.safeParse({ ...body, constraints: [] });
  if (!top.success) return whole();
  const constraints: ConstraintAudit[] = [];
  for (const c of body.constraints as unknown[]) {
    if (!isObject(c) || !Array.isArray(c.violations) || c.violations.length > AUDIT_MAX_VIOLATIONS) return whole();
    const head = ConstraintAudit.safeParse({ ...c, violations: [] });
    if (!head.success) return whole();
    const list = c.violations as unknown[];
    const violations: AuditViolation[] = [];
    for (let at = 0; at < list.length; at += SLICE) {
      for (let i = at; i < Math.min(list.length, at + SLICE); i++) {
        const v = AuditViolation.safeParse(list[i]);
        if (!v.success) return whole();
        violations.push(v.data);
      }
      await pause();
    }
    constraints.push({ ...head.data, violations });
    await pause();
  }
  return { success: true, data: { ...top.data, constraints } };
}
