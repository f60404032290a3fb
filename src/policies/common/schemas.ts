// Reusable option shapes: id ranges, capability names, glob lists. Each rejects contradictory
// input with the path of the offending entry, so a user sees which value to fix.
import { z } from "zod";

export const MAX_ID = 2_147_483_647; // Linux uid/gid are int32 in the Pod API

export const IdRange = z
  .strictObject({
    min: z.int().min(0).max(MAX_ID),
    max: z.int().min(0).max(MAX_ID),
  })
  .refine((r) => r.min <= r.max, { message: "min must be <= max", path: ["max"] });
export type IdRange = z.infer<typeof IdRange>;

/** A list of {min, max} ranges that must not overlap (overlap is almost always a typo); the
 * issue names the later entry and the one it overlaps. */
export function nonOverlapping<R extends z.ZodType<{ min: number; max: number }>>(range: R, max = 64) {
  return z
    .array(range)
    .max(max)
    .superRefine((ranges, ctx) => {
      const order = ranges.map((r, i) => ({ ...r, i })).sort((a, b) => a.min - b.min);
      for (let k = 1; k < order.length; k++) {
        const prev = order[k - 1]!;
        const cur = order[k]!;
        if (cur.min <= prev.max) {
          ctx.addIssue({ code: "custom", path: [cur.i], message: `overlaps range ${prev.i} (${prev.min}-${prev.max})` });
        }
      }
    });
}

export const IdRanges = nonOverlapping(IdRange);

/** Linux capability names, normalised: `cap_net_admin`, `CAP_NET_ADMIN`, `net_admin` → `NET_ADMIN`. */
export function normaliseCapability(name: string): string {
  return name.trim().toUpperCase().replace(/^CAP_/, "");
}

export const Capability = z
  .string()
  .min(1)
  .transform(normaliseCapability)
  .pipe(z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: "must be a capability name such as NET_ADMIN or ALL" }));

/** A list of capabilities: normalised, duplicates dropped, `ALL` alone when present, sorted. */
export const CapabilityList = z
  .array(Capability)
  .max(64)
  .transform((caps) => (caps.includes("ALL") ? ["ALL"] : [...new Set(caps)].sort()));

/** Distinct, non-empty strings, sorted so equal settings render byte-identically. */
export function sortedSet<T extends z.ZodType<string>>(item: T, max = 256) {
  return z
    .array(item)
    .max(max)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (seen.has(v)) ctx.addIssue({ code: "custom", path: [i], message: `duplicate value "${v}"` });
        seen.add(v);
      });
    })
    .transform((list) => [...list].sort());
}
