// Drafts and preview in a real browser against a real `npm start` on each store: an editor saves
// unsaved edits as a draft, sees "not yet evaluated", then — after the agent reports Gatekeeper's
// audit of the draft's shadow constraints — each control's findings (new vs already violating,
// truncated); promoting over a revision saved meanwhile is the 412 flow (what changed, rebase),
// then promotes; a draft from the current settings, what a viewer sees, delete; and another
// tenant's environment id is "Not found".
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHADOW_LABEL, CONTROL_LABEL } from "../../src/protocol/agent.ts";
import { constraintAudit, violation } from "../harness/agent-api.ts";
import { backends } from "../harness/backends.ts";
import { consoleAgent, expectAccessible, launchBrowser, openPage, screenshot, signIn, startConsoleServer, type ConsoleServer } from "./harness.ts";

// Callbacks passed to page.evaluate run in the browser; the test's tsconfig has no DOM lib.
declare const document: { documentElement: { scrollWidth: number } };

describe.each(backends())("drafts and preview on $name", ({ name }) => {
  let server: ConsoleServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let admin: string;
  let envId: string;
  let agent: Awaited<ReturnType<typeof consoleAgent>>;
  // Each report is collected after the one before (the API keeps the newest).
  let clock = Date.now() - 60_000;
  const at = () => new Date((clock += 1000)).toISOString();
  const webOne = violation(1, { namespace: "team-a", name: "web-1", message: "pod team-a/web-1: privileged" });
  const current = () => constraintAudit({ auditTimestamp: at(), totalViolations: 1, violations: [webOne] });

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(name), launchBrowser()]);
    admin = await server.token("drafts-co", "admin");
    const res = await server.api("POST", "/v1/environments", admin, { name: "staging", settings: { controls: { privilegedContainers: { enabled: true } } } });
    expect(res.status).toBe(201);
    envId = ((await res.json()) as { id: string }).id;
    agent = await consoleAgent(server, admin, envId);
    await agent.post("/agent/v1/audit-report", { collectedAt: at(), constraints: [current()] });
    ({ page } = await openPage(browser.browser));
    await signIn(page, server.base, "drafts-co", "editor");
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("saves the page's edits as a draft: not yet evaluated, then each control's findings after the agent's audit", async () => {
    await page.goto(`${server.base}/#/environments/${envId}`);
    await page.getByRole("heading", { name: "Security constraints: staging" }).waitFor();
    await page.getByRole("checkbox", { name: "Capabilities" }).check();
    await page
      .getByRole("region", { name: "Capabilities" })
      .getByLabel(/Required drop/)
      .fill("ALL");
    await page.getByLabel("Comment").fill("drop all capabilities");
    await page.getByRole("button", { name: "Save as draft" }).click();
    await page.getByRole("heading", { name: "Drafts: staging" }).waitFor();
    const draft = page.getByRole("article", { name: "drop all capabilities" });
    await expect.poll(() => draft.getByRole("region", { name: "Preview of Capabilities" }).textContent()).toContain("Not yet evaluated");

    // The agent fetches the draft's shadows (dryrun) with the desired state and reports their audit.
    const shadows = (await agent.objects()).filter((o) => o.metadata.labels[SHADOW_LABEL]);
    expect(shadows.map((s) => s.metadata.labels[CONTROL_LABEL]).sort()).toEqual(["capabilities", "privileged-containers"]);
    const audit = (slug: string) => {
      const s = shadows.find((o) => o.metadata.labels[CONTROL_LABEL] === slug)!;
      return { kind: s.kind, name: s.metadata.name, control: slug, enforcementAction: "dryrun", auditTimestamp: at() };
    };
    const newOnes = [
      violation(2, { namespace: "team-b", name: "api-1", message: "pod team-b/api-1: capabilities not dropped" }),
      violation(3, { namespace: "team-b", name: "api-2" }),
    ];
    await agent.post("/agent/v1/audit-report", {
      collectedAt: at(),
      constraints: [
        current(),
        constraintAudit({ ...audit("privileged-containers"), totalViolations: 1, violations: [webOne] }),
        constraintAudit({ ...audit("capabilities"), totalViolations: 25, truncated: true, violations: newOnes }),
      ],
    });
    await draft.getByRole("button", { name: "Refresh preview" }).click();
    const caps = draft.getByRole("region", { name: "Preview of Capabilities" });
    await expect.poll(() => caps.textContent()).toContain("25 findings · 2 new · 0 already violating");
    expect(await caps.textContent()).toContain("Only the first 2 objects are listed");
    expect(await caps.textContent()).toContain("team-b/api-1: pod team-b/api-1: capabilities not dropped");
    const priv = draft.getByRole("region", { name: "Preview of Privileged containers" });
    expect(await priv.textContent()).toContain("1 finding · 0 new · 1 already violating");
    expect(await priv.textContent()).toContain("already violating Pod team-a/web-1");
    await expectAccessible(page, "drafts");
    await screenshot(page, `${name}-drafts`);
    await draft.getByRole("button", { name: "Show rendered YAML" }).click();
    await expect.poll(() => page.getByLabel("Rendered YAML of drop all capabilities").textContent()).toContain("GatehouseCapabilities");
  });

  it("promoting over a revision saved meanwhile: the 412 lists what changed, rebase keeps both, then it promotes", async () => {
    const other = await server.api(
      "PATCH",
      `/v1/environments/${envId}/settings/controls/hostNamespaces`,
      admin,
      { enabled: true, options: { allowHostPID: true } },
      { "if-match": '"1"' },
    );
    expect(other.status, await other.clone().text()).toBe(200);
    const draft = page.getByRole("article", { name: "drop all capabilities" });
    await draft.getByRole("button", { name: "Promote “drop all capabilities”" }).click();
    const stale = draft.getByRole("group", { name: "Based on revision 1; the current revision is 2" });
    await stale.waitFor();
    expect(await stale.textContent()).toContain("controls.hostNamespaces");
    await expectAccessible(page, "draft stale base");
    await screenshot(page, `${name}-draft-stale`);
    await stale.getByRole("button", { name: "Rebase on revision 2" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Rebased “drop all capabilities” on revision 2.");
    await expect.poll(() => draft.textContent()).toContain("based on revision 2 · version 2");
    // A new version has new shadows: its preview waits for the next audit.
    await expect.poll(() => draft.getByRole("region", { name: "Preview of Capabilities" }).textContent()).toContain("Not yet evaluated");
    await draft.getByRole("button", { name: "Promote “drop all capabilities”" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Promoted “drop all capabilities”: revision 3 is in force.");
    await page.getByText("No open drafts.").waitFor();
    const settings = (await (await server.api("GET", `/v1/environments/${envId}/settings`, admin)).json()) as { revision: number; settings: any };
    expect(settings.revision).toBe(3);
    expect(settings.settings.controls.capabilities).toMatchObject({ enabled: true, options: { requiredDrop: ["ALL"] } });
    expect(settings.settings.controls.hostNamespaces).toMatchObject({ enabled: true, options: { allowHostPID: true } });
  });

  it("a draft from the current settings; a viewer (on a narrow window) sees it with no write controls; an editor deletes it", async () => {
    await page.getByLabel("Start from").selectOption({ label: "The current settings" });
    await page.getByLabel("Comment").fill("as is");
    await page.getByRole("button", { name: "Create draft" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Created “as is”.");
    await expect.poll(() => page.getByRole("article", { name: "as is" }).textContent()).toContain("based on revision 3");

    // The viewer on a narrow window: nothing wider than the screen.
    const { page: viewer } = await openPage(browser.browser, 390);
    await signIn(viewer, server.base, "drafts-co", "viewer");
    await viewer.goto(`${server.base}/#/environments/${envId}/drafts`);
    await viewer.getByRole("article", { name: "as is" }).waitFor();
    expect(await viewer.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await viewer.locator("main input, main select, main textarea").count()).toBe(0);
    expect(await viewer.getByRole("button", { name: /Promote|Delete|Create draft|Rebase/ }).count()).toBe(0);
    await expectAccessible(viewer, "viewer drafts");
    await viewer.context().close();

    await page.getByRole("button", { name: "Delete “as is”" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Deleted “as is”.");
    await page.getByText("No open drafts.").waitFor();
  });

  it("another tenant's environment id shows 'not found'", async () => {
    const { page: p } = await openPage(browser.browser);
    await signIn(p, server.base, "other-co", "editor");
    await p.goto(`${server.base}/#/environments/${envId}/drafts`);
    await p.getByRole("heading", { name: "Not found" }).waitFor();
    expect(await p.getByRole("button", { name: /Create draft|Promote/ }).count()).toBe(0);
    await p.context().close();
  });
});
