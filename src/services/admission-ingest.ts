// One batch of the agent's admission Events (POST /agent/v1/admission-events), in one
// transaction: folded into the denial history (denials.ts), the shadow constraints' events kept
// as what an open draft would refuse (draft-admissions.ts), and the environment's old denials
// pruned while its agent reports. An environment deleted mid-batch is the agent's 404.
import type { AgentPrincipal } from "../app/env.ts";
import { PG, pgErrorCode, type Database } from "../db/client.ts";
import type { AdmissionEvent } from "../protocol/admission.ts";
import { environmentGone, requireAgentEnvironment } from "../routes/agent-common.ts";
import { type IngestResult, pruneDenials, recordAdmissionEvents } from "./denials.ts";
import { recordShadowAdmissions } from "./draft-admissions.ts";

export async function ingestAdmissionEvents(
  db: Database,
  a: AgentPrincipal,
  events: AdmissionEvent[],
  o: { now: Date; windowSeconds: number; retentionDays: number },
): Promise<IngestResult> {
  try {
    return await db.withTenant(a.tenantId, async (tx) => {
      await requireAgentEnvironment(tx, a);
      const ids = { tenantId: a.tenantId, environmentId: a.environmentId };
      const r = await recordAdmissionEvents(tx, ids, events, { now: o.now, windowSeconds: o.windowSeconds });
      // Shadow constraints' events are not denials: they are new objects a draft would refuse.
      await recordShadowAdmissions(tx, ids, events, o.now);
      // Retention rides on ingest: the environment's old rows go while its agent reports.
      await pruneDenials(tx, a.environmentId, o.now, o.retentionDays);
      return r;
    });
  } catch (err) {
    if (pgErrorCode(err) === PG.foreignKeyViolation) throw environmentGone();
    throw err;
  }
}
