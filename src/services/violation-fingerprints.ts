// A violation's identity (its fingerprint) and the slices of the fingerprint space an ingest is
// chunked by: pure functions of a report, shared by the diff (violations.ts) and the chunking
// (audit-ingest.ts).
import type { AuditReport, AuditViolation } from "../protocol/agent.ts";
import { sha256Hex } from "../lib/sha256.ts";

/**
 * A violation's identity, as stored in `fingerprint`: sha256 (hex) of the compact JSON array of
 * environment, constraint kind and name, resource group, kind, namespace and name, and message.
 * PostgreSQL computes the same from a row (migrations/0006):
 * encode(sha256(convert_to(array_to_json(array[...])::text, 'UTF8')), 'hex').
 */
export function violationFingerprint(
  environmentId: string,
  constraintKind: string,
  constraintName: string,
  v: Pick<AuditViolation, "group" | "kind" | "namespace" | "name" | "message">,
): string {
  return sha256Hex(JSON.stringify([environmentId.toLowerCase(), constraintKind, constraintName, v.group, v.kind, v.namespace, v.name, v.message]));
}

/** The report's listed violations, one per identity, with their fingerprints (see ListedViolation). */
export function listedViolations(environmentId: string, report: AuditReport, from = 0, to = report.constraints.length): ListedViolation[] {
  const out: ListedViolation[] = [];
  for (let i = from; i < to; i++) {
    const c = report.constraints[i]!;
    for (const v of c.violations)
      out.push({ fp: violationFingerprint(environmentId, c.kind, c.name, v), c: i + 1, ea: v.enforcementAction || c.enforcementAction, v });
  }
  return out;
}

/** One listed violation: its fingerprint, its constraint's 1-based index, its enforcement action. */
export interface ListedViolation {
  fp: string;
  c: number;
  ea: string;
  v: AuditViolation;
}

/**
 * A slice of the fingerprint space: [lo, hi), null for unbounded. Fingerprints are sha256 hex, so
 * evenly spaced bounds split both the listed and the open violations into even parts. The bounds
 * are compared as text by PostgreSQL and as strings here: for strings of [0-9a-f] every collation
 * PostgreSQL ships orders like bytes (digits before letters), so both sides agree on the slice.
 */
export interface FingerprintRange {
  lo: string | null;
  hi: string | null;
}
export const WHOLE_RANGE: FingerprintRange = { lo: null, hi: null };

/** `n` even slices of the fingerprint space (n >= 1). */
export function fingerprintRanges(n: number): FingerprintRange[] {
  const bound = (i: number) =>
    Math.floor((i * 0x1_0000_0000) / n)
      .toString(16)
      .padStart(8, "0");
  return Array.from({ length: n }, (_, i) => ({ lo: i === 0 ? null : bound(i), hi: i === n - 1 ? null : bound(i + 1) }));
}
export const inRange = (fp: string, r: FingerprintRange) => (r.lo === null || fp >= r.lo) && (r.hi === null || fp < r.hi);
