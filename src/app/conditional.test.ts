// The one conditional-request helper: If-None-Match compared weakly, If-Match naming a revision.
import { describe, expect, it } from "vitest";
import { hashEtag, ifMatchRevision, noneMatch, parseRevisionEtag, revisionEtag } from "./conditional.ts";
import { ProblemError } from "./problem.ts";

describe("conditional requests", () => {
  it("If-None-Match: the tag, a weak copy of it, one of a list, or * match; another tag or none does not", () => {
    const etag = revisionEtag(3);
    expect(etag).toBe('"3"');
    for (const header of ['"3"', 'W/"3"', ' "1", "3" ', "*", '"2", *']) expect(noneMatch(header, etag), header).toBe(true);
    for (const header of [undefined, "", '"4"', "3", '"3', 'W/"30"']) expect(noneMatch(header, etag), String(header)).toBe(false);
  });

  it("a hashed ETag names its label and 16 hex digits of the hash", () => {
    expect(hashEtag("7", `sha256:${"ab".repeat(32)}`, "-yaml")).toBe(`"7-${"ab".repeat(8)}-yaml"`);
  });

  it("If-Match names a revision; * only where allowed; anything else is a 400 at If-Match", () => {
    expect(ifMatchRevision(undefined, { star: false })).toBeUndefined();
    expect(ifMatchRevision(' W/"12" ', { star: false })).toBe(12);
    expect(ifMatchRevision("*", { star: true })).toBeUndefined();
    expect(parseRevisionEtag('"1234567890"')).toBeNull(); // beyond int4: never a revision
    for (const [header, star] of [
      ["*", false],
      ["3", true],
      ['"x"', true],
      ['"1", "2"', false],
    ] as const) {
      let thrown: unknown;
      try {
        ifMatchRevision(header, { star });
      } catch (err) {
        thrown = err;
      }
      expect(thrown, header).toBeInstanceOf(ProblemError);
      expect((thrown as ProblemError).status).toBe(400);
    }
  });
});
