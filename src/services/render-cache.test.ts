// The per-process render cache behind the agents' poll: reused within its window, rendered again
// when the revision moves, an exemption expires, or the clock goes back.
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EnvironmentSettings, presets, renderEnvironment } from "../policies/index.ts";
import { contentHash } from "../policies/hash.ts";
import { nextExpiry, renderedObjects } from "./render-cache.ts";

const T0 = Date.parse("2030-01-01T00:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const doc = EnvironmentSettings.parse({
  exemptions: { images: [{ pattern: "registry.example.com/legacy/*", expiresAt: "2030-01-01T00:30:00Z" }] },
  controls: {
    ...presets.baseline.controls,
    privilegedContainers: { exemptions: { namespaces: [{ pattern: "batch-*", expiresAt: "2030-01-01T03:00:00+02:00" }] } },
  },
});

describe("nextExpiry", () => {
  it("is the earliest expiresAt after t, wherever it is in the document; Infinity when none is left", () => {
    expect(nextExpiry(doc, T0)).toBe(at(30).getTime());
    expect(nextExpiry(doc, at(30).getTime())).toBe(at(60).getTime()); // 03:00+02:00
    expect(nextExpiry(doc, at(60).getTime())).toBe(Infinity);
    expect(nextExpiry(EnvironmentSettings.parse({}), T0)).toBe(Infinity);
  });
});

describe("renderedObjects", () => {
  const tenant = randomUUID();

  it("equals the renderer's output and its hash, and is reused within the window", () => {
    const env = randomUUID();
    const first = renderedObjects(tenant, env, 1, doc, at(0));
    const { objects } = renderEnvironment(doc, at(0));
    expect(first.objects).toEqual(objects);
    expect(first.hash).toBe(contentHash(objects));
    expect(renderedObjects(tenant, env, 1, doc, at(29))).toBe(first);
  });

  it("renders again when the revision changes, at the next expiry, and when the clock goes back", () => {
    const env = randomUUID();
    const first = renderedObjects(tenant, env, 1, doc, at(0));
    const expired = renderedObjects(tenant, env, 1, doc, at(30));
    expect(expired).not.toBe(first);
    expect(expired.objects).toEqual(renderEnvironment(doc, at(30)).objects);
    expect(expired.hash).not.toBe(first.hash);
    expect(renderedObjects(tenant, env, 1, doc, at(59))).toBe(expired);
    const both = renderedObjects(tenant, env, 1, doc, at(60));
    expect(both.hash).not.toBe(expired.hash);
    expect(renderedObjects(tenant, env, 1, doc, at(6000))).toBe(both); // nothing expires any more
    const back = renderedObjects(tenant, env, 1, doc, at(0));
    expect(back).not.toBe(expired);
    expect(back.hash).toBe(first.hash);
    const next = renderedObjects(tenant, env, 2, EnvironmentSettings.parse({}), at(0));
    expect(next.objects).toEqual([]);
  });

  it("keeps environments apart", () => {
    const a = renderedObjects(tenant, randomUUID(), 1, doc, at(0));
    const b = renderedObjects(tenant, randomUUID(), 1, EnvironmentSettings.parse({}), at(0));
    expect(a.hash).not.toBe(b.hash);
  });

  it("shares one rendering between environments with the same document and no drafts, within its window", () => {
    const same = EnvironmentSettings.parse(structuredClone(doc));
    const a = renderedObjects(tenant, randomUUID(), 1, doc, at(0));
    // Another environment, another revision number, an equal document (another object): the same objects.
    const b = renderedObjects(tenant, randomUUID(), 7, same, at(10));
    expect(b.objects).toBe(a.objects);
    expect(b.hash).toBe(a.hash);
    // Past the shared window's end (the exemption at 30 minutes) it is rendered again, and right.
    const c = renderedObjects(tenant, randomUUID(), 1, same, at(30));
    expect(c.objects).not.toBe(a.objects);
    expect(c.objects).toEqual(renderEnvironment(doc, at(30)).objects);
    // A clock before the shared rendering's window does not take it either.
    const d = renderedObjects(tenant, randomUUID(), 1, same, at(29));
    expect(d.objects).not.toBe(c.objects);
    expect(d.hash).toBe(a.hash);
    // A different document, or drafts, are never given another environment's rendering.
    const other = renderedObjects(tenant, randomUUID(), 1, EnvironmentSettings.parse({ controls: presets.restricted.controls }), at(10));
    expect(other.objects).not.toBe(a.objects);
    const draft = { id: randomUUID(), document: same, version: 1, expiresAt: at(45) };
    expect(renderedObjects(tenant, randomUUID(), 1, same, at(10), [draft]).objects).not.toBe(a.objects);
  });

  it("adds open drafts' shadows; renders again when a draft's version moves or it expires", () => {
    const env = randomUUID();
    const draft = { id: randomUUID(), document: EnvironmentSettings.parse({ controls: presets.restricted.controls }), version: 1, expiresAt: at(45) };
    const plain = renderedObjects(tenant, env, 1, doc, at(0));
    const shadowed = renderedObjects(tenant, env, 1, doc, at(0), [draft]);
    expect(shadowed.hash).not.toBe(plain.hash);
    expect(shadowed.objects.some((o) => (o.metadata as { name: string }).name.startsWith(`preview-${draft.id.slice(0, 8)}-`))).toBe(true);
    expect(renderedObjects(tenant, env, 1, doc, at(1), [draft])).toBe(shadowed);
    const v2 = renderedObjects(tenant, env, 1, doc, at(1), [{ ...draft, version: 2 }]);
    expect(v2).not.toBe(shadowed);
    // The window ends at the first expiry of anything in it: the exemption at 30 minutes.
    const later = renderedObjects(tenant, env, 1, doc, at(40), [{ ...draft, version: 2 }]);
    expect(later).not.toBe(v2);
    // At the draft's expiry its shadows drop out even if a caller still passes it.
    const expired = renderedObjects(tenant, env, 1, doc, at(45), [{ ...draft, version: 2 }]);
    expect(expired.objects).toEqual(renderEnvironment(doc, at(45)).objects);
  });
});
