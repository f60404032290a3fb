// What the request body guard (text-guard.ts) refuses before any route sees a body, found by an
// outside probe (issue 13): JSON nested ~20k levels deep was a 500 (the guard's own recursive walk
// overflowed the stack), invalid UTF-8 was stored as U+FFFD (201), and an empty body sent with a
// JSON content type was "Malformed JSON" on a route that takes no body. Each is a 400 naming the
// field (or accepted, for the empty body), on both databases, and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditReport, constraintAudit, statusReport, violation } from "../../test/harness/agent-api.ts";
import { expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import type { EnvJson } from "../../test/harness/environments.ts";
import { openGuardBed, tenantRows } from "../../test/harness/guard-bed.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import { MAX_JSON_DEPTH } from "./text-guard.ts";

const T = "body-guard";
const enc = new TextEncoder();

/** `{"k":{"k":…{"k":leaf}…}}`: `levels` objects deep. */
const nestedObjects = (levels: number, leaf = "1") => `${'{"k":'.repeat(levels)}${leaf}${"}".repeat(levels)}`;
/** `[[…[]…]]`: `levels` arrays deep. */
const nestedArrays = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

/** A JSON text whose MARK string is replaced by these raw bytes (invalid UTF-8 JSON.stringify cannot write). */
function withBytes(json: string, mark: string, bytes: number[]): Uint8Array {
  const [before, after] = json.split(mark);
  return new Uint8Array([...enc.encode(before), ...bytes, ...enc.encode(after)]);
}

describe.each(backends())("request body guard ($name)", (backend) => {
  let api: TestApi;
  let env: EnvJson;
  let admin: string;
  let agent: string;
  beforeAll(async () => {
    ({ api, env, admin, agent } = await openGuardBed(backend, T));
  });
  afterAll(() => api?.close());

  const send = (method: string, path: string, token: string, body: string | Uint8Array, contentType = "application/json") =>
    Promise.resolve(api.app.request(path, { method, headers: { authorization: `Bearer ${token}`, "content-type": contentType }, body }));

  /** Every row of the tenant that these requests could write. */
  const snapshot = () => tenantRows(api, T, ["environments", "settings_revisions", "agent_status", "audit_reports", "violations", "audit_log"]);

  describe(`nesting deeper than ${MAX_JSON_DEPTH} levels`, () => {
    const deep: [string, string, () => string, string][] = [
      ["POST /v1/environments, 20,000 arrays deep", "/v1/environments", () => `{"name":"x","labels":${nestedArrays(20_000)}}`, "labels"],
      ["PATCH settings of a control, 20,000 arrays deep", "", () => `{"options":${nestedArrays(20_000)}}`, "options"],
      [
        "POST /agent/v1/status, 20,000 arrays deep",
        AGENT_PATHS.status,
        () => JSON.stringify({ ...statusReport(), objects: "MARK" }).replace('"MARK"', nestedArrays(20_000)),
        "objects",
      ],
      [
        "POST /agent/v1/audit-report, 20,000 objects deep",
        AGENT_PATHS.auditReport,
        () => JSON.stringify({ ...auditReport(), constraints: "MARK" }).replace('"MARK"', nestedObjects(20_000)),
        "constraints",
      ],
    ];

    it.each(deep)("%s → 400 naming the limit; nothing written", async (what, path, body, field) => {
      const before = await snapshot();
      const url = path || `/v1/environments/${env.id}/settings/controls/capabilities`;
      const method = path === "/v1/environments" || path.startsWith("/agent") ? "POST" : "PATCH";
      const problem = await expectProblem(await send(method, url, what.includes("agent") ? agent : admin, body()), 400);
      expect(problem.detail).toBe(`The request body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
      expect(problem.errors).toHaveLength(1);
      expect(problem.errors?.[0]?.path.startsWith(field)).toBe(true);
      expect(problem.errors?.[0]?.message).toContain(String(MAX_JSON_DEPTH));
      expect(await snapshot()).toEqual(before);
    });

    it(`exactly ${MAX_JSON_DEPTH} levels pass the guard (the route's own validation answers)`, async () => {
      // The body object is level 1, so labels' value may nest 63 more.
      const problem = await expectProblem(
        await send("POST", "/v1/environments", admin, `{"name":"x","labels":${nestedObjects(MAX_JSON_DEPTH - 2, "{}")}}`),
        400,
      );
      expect(problem.detail).toBe("The request body is invalid.");
      const over = await expectProblem(await send("POST", "/v1/environments", admin, `{"name":"x","labels":${nestedObjects(MAX_JSON_DEPTH - 1, "{}")}}`), 400);
      expect(over.detail).toContain(`deeper than ${MAX_JSON_DEPTH}`);
    });

    it("a deep body is still a 401 without a credential (nothing is parsed before authentication)", async () => {
      const res = await api.app.request("/v1/environments", { method: "POST", headers: { "content-type": "application/json" }, body: nestedArrays(20_000) });
      await expectProblem(res, 401);
    });
  });

  describe("invalid UTF-8", () => {
    const bad: [string, string, () => Uint8Array, string][] = [
      [
        "a lone continuation byte in an environment description",
        "/v1/environments",
        () => withBytes(JSON.stringify({ name: "utf8-a", description: "MARK" }), "MARK", [0x61, 0x80, 0x62]),
        "description",
      ],
      [
        "a truncated sequence in an environment name",
        "/v1/environments",
        () => withBytes(JSON.stringify({ name: "MARK" }), "MARK", [0x61, 0xe2, 0x82]),
        "name",
      ],
      [
        "an overlong '/' (C0 AF) in a label key",
        "/v1/environments",
        () => withBytes(JSON.stringify({ name: "utf8-b", labels: { MARK: "v" } }), "MARK", [0xc0, 0xaf]),
        "labels.\ufffd\ufffd",
      ],
      [
        "an encoded surrogate (ED A0 80) in a label value",
        "/v1/environments",
        () => withBytes(JSON.stringify({ name: "utf8-c", labels: { k: "MARK" } }), "MARK", [0xed, 0xa0, 0x80]),
        "labels.k",
      ],
      ["0xFF in an agent status error", AGENT_PATHS.status, () => withBytes(JSON.stringify({ ...statusReport(), error: "MARK" }), "MARK", [0xff]), "error"],
      [
        "a bad byte in an audit report's violation message",
        AGENT_PATHS.auditReport,
        () =>
          withBytes(
            JSON.stringify({ ...auditReport(), constraints: [{ ...constraintAudit({}, 0), violations: [violation(1, { message: "MARK" })] }] }),
            "MARK",
            [0x70, 0xf5, 0x71],
          ),
        "constraints[0].violations[0].message",
      ],
      ["a bad byte outside any string", "/v1/environments", () => withBytes('{"name":"x"MARK}', "MARK", [0xff]), "(root)"],
    ];

    it.each(bad)("%s → 400 naming the field; nothing written", async (_what, path, body, field) => {
      const before = await snapshot();
      const problem = await expectProblem(await send("POST", path, path.startsWith("/agent") ? agent : admin, body()), 400);
      expect(problem.detail).toBe("The request body is not valid UTF-8.");
      // A key's path shows where its bad bytes were (U+FFFD stands for each).
      expect(problem.errors).toEqual([{ path: field, message: expect.stringContaining("UTF-8") }]);
      expect(await snapshot()).toEqual(before);
    });

    it("valid multi-byte text, a literal U+FFFD and a byte-order mark are accepted as they are", async () => {
      const body = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode(JSON.stringify({ description: "é ✓ 𝄞 \ufffd" }))]);
      const res = await send("PATCH", `/v1/environments/${env.id}`, admin, body);
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as { description: string }).description).toBe("é ✓ 𝄞 \ufffd");
    });
  });

  describe("an empty body with a JSON content type", () => {
    it("is no body on a route whose body is optional: POST …/agent-credentials → 201", async () => {
      const res = await send("POST", `/v1/environments/${env.id}/agent-credentials`, admin, "");
      expect(res.status, await res.clone().text()).toBe(201);
      expect(((await res.json()) as { secret: string }).secret).toMatch(/^gha_/);
    });

    it("is no body on a route that needs one: POST /v1/environments → 400 naming the missing fields, not Malformed JSON", async () => {
      const problem = await expectProblem(await send("POST", "/v1/environments", admin, ""), 400);
      expect(problem.detail).toBe("The request body is invalid.");
      expect(problem.errors?.map((e) => e.path)).toContain("name");
    });

    it("a body of whitespace only is still malformed JSON", async () => {
      const problem = await expectProblem(await send("POST", `/v1/environments/${env.id}/agent-credentials`, admin, " \n"), 400);
      expect(problem.detail).toMatch(/malformed json/i);
    });
  });
});
