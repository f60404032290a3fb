// The console in a real browser (headless Chromium) against a real `npm start` on each store:
// sign-in, the fleet, the security constraints page (toggle, tune, save, the conflict flow, a
// validation error at its field, an exemption with expiry), history with rollback, what a viewer
// sees, another tenant's id, a 401, and /docs — all with every non-loopback request aborted and
// axe-core on every page. Screenshots go to test-output/console/.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { constraintAudit, violation as agentViolation } from "../harness/agent-api.ts";
import { backends } from "../harness/backends.ts";
import { expectAccessible, launchBrowser, openPage, screenshot, signIn, startConsoleServer, type ConsoleServer } from "./harness.ts";

// Callbacks passed to page.evaluate run in the browser; the test's tsconfig has no DOM lib.
declare const document: { activeElement: { id: string; getAttribute(name: string): string | null } | null; documentElement: { scrollWidth: number } };

describe.each(backends())("the console on $name", ({ name }) => {
  let server: ConsoleServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let blocked: string[];
  let envId: string;
  let admin: string;
  const shot = (p: Page, n: string, fullPage = true) => screenshot(p, `${name}-${n}`, fullPage);
  const settingsOf = async (id: string) =>
    (await (await server.api("GET", `/v1/environments/${id}/settings`, admin)).json()) as { revision: number; settings: any };

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(name), launchBrowser()]);
    ({ page, blocked } = await openPage(browser.browser));
    admin = await server.token("acme", "admin");
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("development sign-in, then the fleet: creates an environment from a preset and shows its agent manifest", async () => {
    await page.goto(server.base);
    await page.getByRole("heading", { name: "Development sign-in" }).waitFor();
    await expectAccessible(page, "sign-in");
    await shot(page, "sign-in");
    await signIn(page, server.base, "acme", "admin");
    await page.getByRole("heading", { name: "Fleet" }).waitFor();

    await page.getByLabel("Name").fill("prod-eu");
    await page.getByLabel("Preset").selectOption("baseline");
    await page.getByRole("button", { name: "Create environment" }).click();
    await page.getByRole("heading", { name: "Agent install manifest: prod-eu" }).waitFor();
    await expect.poll(() => page.locator("pre.yaml").textContent()).toContain("kind: Deployment");
    const row = page.getByRole("row", { name: /prod-eu/ });
    await expect.poll(() => row.textContent()).toContain("Never connected");
    await expect.poll(() => row.textContent()).toContain("no audit yet");
    const list = (await (await server.api("GET", "/v1/environments", admin)).json()) as { items: { id: string; name: string }[] };
    envId = list.items.find((e) => e.name === "prod-eu")!.id;
    const created = await settingsOf(envId);
    expect(Object.keys(created.settings.controls)).toContain("capabilities");
    await expectAccessible(page, "fleet");
    await shot(page, "fleet");
  });

  it("toggles and tunes controls, saves with If-Match, and moves focus to the result", async () => {
    await page.getByRole("link", { name: "prod-eu" }).click();
    await page.getByRole("heading", { name: "Security constraints: prod-eu" }).waitFor();
    await expectAccessible(page, "security constraints");
    await page.getByRole("checkbox", { name: "Read only root filesystem" }).check();
    const caps = page.getByRole("region", { name: "Capabilities" });
    await caps.getByLabel("Mode").selectOption("warn");
    await caps.getByLabel(/Required drop/).fill("ALL");
    await caps.getByLabel(/Required drop/).blur();
    await page.getByLabel("Comment").fill("tighten capabilities");
    await page.getByRole("button", { name: "Save settings" }).click();
    const status = page.getByRole("status");
    await expect.poll(() => status.textContent()).toBe("Saved revision 2.");
    // Focus moves in an effect after the status renders: wait for it, do not race it.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("role"))).toBe("status");

    const saved = await settingsOf(envId);
    expect(saved.revision).toBe(2);
    expect(saved.settings.controls.readOnlyRootFilesystem).toMatchObject({ enabled: true });
    expect(saved.settings.controls.capabilities).toMatchObject({ enforcementAction: "warn", options: { requiredDrop: ["ALL"] } });
    await shot(page, "security-constraints", false);
    await page.getByRole("button", { name: "Show rendered YAML" }).click();
    await expect.poll(() => page.getByLabel("Rendered YAML of the saved revision").textContent()).toContain("GatehouseReadOnlyRootFilesystem");
  });

  it("a concurrent save through the API: the page shows what changed and reapplies the user's edit on top", async () => {
    await page.getByLabel("Default mode for every control").selectOption("warn");
    const other = await server.api(
      "PATCH",
      `/v1/environments/${envId}/settings/controls/hostNamespaces`,
      admin,
      { options: { allowHostPID: true } },
      { "if-match": '"2"' },
    );
    expect(other.status).toBe(200);
    await page.getByRole("button", { name: "Save settings" }).click();
    const conflict = page.getByRole("region", { name: "Someone else saved first" });
    await conflict.waitFor();
    await expect.poll(() => conflict.textContent()).toContain("controls.hostNamespaces.options.allowHostPID");
    await expectAccessible(page, "conflict");
    await shot(page, "conflict", false);
    await conflict.getByRole("button", { name: /Reapply my changes/ }).click();
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Saved revision 4.");
    const saved = await settingsOf(envId);
    expect(saved.settings.enforcementAction).toBe("warn");
    expect(saved.settings.controls.hostNamespaces.options.allowHostPID).toBe(true);
  });

  it("a validation error from the API's problem+json is shown at the field it names", async () => {
    const ports = page.getByRole("region", { name: "Host network ports" });
    await ports.getByRole("button", { name: "Add host ports" }).click();
    await ports.getByLabel("Min").fill("8080");
    await ports.getByLabel("Max").fill("70000");
    await ports.getByLabel("Max").blur();
    await page.getByRole("button", { name: "Save settings" }).click();
    const max = page.locator("#f-settings-controls-hostNetworkPorts-options-hostPorts-0-max");
    await expect.poll(() => max.getAttribute("aria-invalid")).toBe("true");
    const message = await page.locator("#f-settings-controls-hostNetworkPorts-options-hostPorts-0-max-err").textContent();
    expect(message).toMatch(/65535/);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("f-settings-controls-hostNetworkPorts-options-hostPorts-0-max");
    await expectAccessible(page, "validation error");
    await shot(page, "validation-error", false);
    expect((await settingsOf(envId)).revision).toBe(4);
    await page.getByRole("button", { name: "Discard changes" }).click();
  });

  it("an exemption with a reason and an expiry, shown as 'expires in 3 days'", async () => {
    const priv = page.getByRole("region", { name: "Privileged containers" });
    await priv.getByText("Exemptions for this control (0)").click();
    await priv.getByRole("button", { name: "Add namespace exemption" }).click();
    await priv.getByLabel("Pattern").fill("team-debug");
    await priv.getByLabel("Reason").fill("debugging a node issue");
    const at = new Date(Date.now() + 3 * 86_400_000 + 30 * 60_000);
    const local = new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await priv.getByLabel("Expires").fill(local);
    await priv.getByLabel("Expires").blur();
    await expect.poll(() => priv.textContent()).toContain("expires in 3 days");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Saved revision 5.");
    const saved = await settingsOf(envId);
    expect(saved.settings.controls.privilegedContainers.exemptions.namespaces).toEqual([
      { pattern: "team-debug", reason: "debugging a node issue", expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    ]);
    expect(Math.abs(Date.parse(saved.settings.controls.privilegedContainers.exemptions.namespaces[0].expiresAt) - at.getTime())).toBeLessThan(60_000);
  });

  it("history lists revisions with author, comment and changes, and rolls back", async () => {
    await page.getByRole("link", { name: "History" }).click();
    await page.getByRole("heading", { name: "History: prod-eu" }).waitFor();
    const rev2 = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Revision 2", exact: true }) });
    expect(await rev2.textContent()).toContain("tighten capabilities");
    expect(await rev2.textContent()).toContain("admin@acme");
    await rev2.getByRole("button", { name: "Show changes" }).click();
    await expect.poll(() => rev2.textContent()).toContain("controls.capabilities.enforcementAction");
    await expectAccessible(page, "history");
    await shot(page, "history");
    await page.getByRole("button", { name: "Roll back to revision 1" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("revision 6 has the settings of revision 1");
    const first = (await (await server.api("GET", `/v1/environments/${envId}/settings/revisions/1`, admin)).json()) as { settings: unknown };
    expect((await settingsOf(envId)).settings).toEqual(first.settings);
  });

  it("violations after an audit report: the filters, the list, and the fleet's counts", async () => {
    // What the in-cluster agent does: authenticate with its credential and post Gatekeeper's audit.
    const cred = (await (await server.api("POST", `/v1/environments/${envId}/agent-credentials`, admin, {})).json()) as { secret: string };
    const at = new Date().toISOString();
    // One deny violation of privileged-containers, collected now.
    const violation = agentViolation(0, { namespace: "team-a", name: "web-1", message: "pod team-a/web-1: privileged" });
    const report = { collectedAt: at, constraints: [constraintAudit({ auditTimestamp: at, totalViolations: 1, violations: [violation] }, 0)] };
    const posted = await fetch(`${server.base}/agent/v1/audit-report`, {
      method: "POST",
      headers: { authorization: `Bearer ${cred.secret}`, "content-type": "application/json" },
      body: JSON.stringify(report),
    });
    expect(posted.status).toBe(204);

    await page.getByRole("link", { name: "Violations" }).click();
    await page.getByRole("heading", { name: "Violations" }).waitFor();
    const row = page.getByRole("row", { name: /Pod team-a\/web-1/ });
    await row.waitFor();
    expect(await row.textContent()).toContain("pod team-a/web-1: privileged");
    await page.getByLabel("Namespace").fill("team-b");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("No violations match.").waitFor();
    await page.getByLabel("Namespace").fill("team-a");
    await page.getByLabel("Environment").selectOption({ label: "prod-eu" });
    await page.getByRole("button", { name: "Apply filters" }).click();
    await row.waitFor();
    await expectAccessible(page, "violations");
    await shot(page, "violations");

    await page.getByRole("link", { name: "Fleet" }).click();
    await expect.poll(() => page.getByRole("row", { name: /prod-eu/ }).textContent()).toContain("1 deny");
  });

  it("denials the agent reported: a controller's refused Pods under their Deployment, with the count and who asked", async () => {
    const cred = (await (await server.api("POST", `/v1/environments/${envId}/agent-credentials`, admin, {})).json()) as { secret: string };
    const at = new Date().toISOString();
    const event = {
      uid: "console-event-1",
      count: 4,
      firstSeenAt: at,
      lastSeenAt: at,
      action: "deny",
      constraintKind: "GatehousePrivilegedContainers",
      constraintName: "privileged-containers",
      resource: { group: "", version: "v1", kind: "Pod", namespace: "team-a", name: "root-web-7c9d8f6b5d-x2x7q" },
      owner: { kind: "Deployment", name: "root-web" },
      username: "system:serviceaccount:kube-system:replicaset-controller",
      message: "pod team-a/root-web-7c9d8f6b5d-x2x7q: privileged",
    };
    const posted = await fetch(`${server.base}/agent/v1/admission-events`, {
      method: "POST",
      headers: { authorization: `Bearer ${cred.secret}`, "content-type": "application/json" },
      body: JSON.stringify({
        events: [
          event,
          // The API server's refusal of another Deployment's Pod, read from its ReplicaSet's FailedCreate Event.
          { ...event, uid: "console-event-2", source: "apiserver", owner: { kind: "Deployment", name: "vap-web" }, username: "", count: 2 },
        ],
      }),
    });
    expect(posted.status).toBe(200);

    await page.getByRole("link", { name: "Denials" }).click();
    await page.getByRole("heading", { name: "Denials" }).waitFor();
    const row = page.getByRole("row", { name: /Deployment team-a\/root-web/ });
    await row.waitFor();
    const text = await row.textContent();
    for (const part of [
      "prod-eu",
      "critical",
      "privilegedContainers",
      "deny",
      "4",
      "replicaset-controller",
      "pod team-a/root-web-7c9d8f6b5d-x2x7q: privileged",
    ])
      expect(text).toContain(part);
    expect(text).not.toContain("by the API server");
    const vap = await page.getByRole("row", { name: /Deployment team-a\/vap-web/ }).textContent();
    expect(vap).toContain("deny by the API server");
    expect(vap).toContain("its controller");
    await page.getByLabel("Action").selectOption("warn");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByText("No denials match.").waitFor();
    await page.getByLabel("Action").selectOption("deny");
    await page.getByLabel("Workload").fill("Deployment/root-web");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await row.waitFor();
    await expectAccessible(page, "denials");
    await shot(page, "denials");
  });

  it("the sign-in works from the keyboard alone", async () => {
    const { page: p } = await openPage(browser.browser);
    await p.goto(server.base);
    await p.getByLabel("Tenant").focus();
    await p.keyboard.type("acme");
    await p.keyboard.press("Tab");
    await p.keyboard.press("ArrowDown"); // admin → editor
    await p.keyboard.press("Tab");
    await p.keyboard.type("kim");
    await p.keyboard.press("Enter");
    await p.getByRole("heading", { name: "Fleet" }).waitFor();
    expect(await p.locator(".who").textContent()).toBe("acme · editor");
    await p.context().close();
  });

  it("a viewer sees no write controls", async () => {
    const { page: p } = await openPage(browser.browser);
    await signIn(p, server.base, "acme", "viewer");
    await p.getByRole("link", { name: "prod-eu" }).waitFor();
    expect(await p.getByRole("button", { name: /Create environment|Show manifest/ }).count()).toBe(0);
    expect(await p.locator("main input, main select, main textarea").count()).toBe(1); // the label filter
    await p.getByRole("link", { name: "prod-eu" }).click();
    await p.getByRole("heading", { name: "Security constraints: prod-eu" }).waitFor();
    expect(await p.locator("main input, main select, main textarea").count()).toBe(0);
    expect(await p.locator("main button").allTextContents()).toEqual(["Show rendered YAML"]);
    await expectAccessible(p, "viewer constraints");
    await shot(p, "viewer-security-constraints");
    await p.getByRole("link", { name: "History" }).click();
    await p.getByRole("heading", { name: "History: prod-eu" }).waitFor();
    expect(await p.getByRole("button", { name: /Roll back/ }).count()).toBe(0);
    await p.context().close();
  });

  it("another tenant's environment id in the URL shows 'not found'; a 401 takes the user back to sign-in", async () => {
    const { page: p } = await openPage(browser.browser);
    await signIn(p, server.base, "other-co", "admin");
    await p.goto(`${server.base}/#/environments/${envId}`);
    await p.getByRole("heading", { name: "Not found" }).waitFor();
    await p.goto(`${server.base}/#/environments/${envId}/history`);
    await p.getByRole("heading", { name: "Not found" }).waitFor();
    await expectAccessible(p, "not found");

    // From now on the server sees a forged token: its real 401 must end the session.
    await p.route("**/v1/**", (route) => route.continue({ headers: { ...route.request().headers(), authorization: "Bearer forged" } }));
    await p.getByRole("link", { name: "Violations" }).click();
    await p.getByRole("heading", { name: "Development sign-in" }).waitFor();
    expect(await p.getByRole("status").textContent()).toContain("Sign in again");
    await p.context().close();
  });

  it("is usable on a narrow window", async () => {
    const { page: p } = await openPage(browser.browser, 390);
    await signIn(p, server.base, "acme", "editor");
    await p.goto(`${server.base}/#/environments/${envId}`);
    await p.getByRole("heading", { name: "Security constraints: prod-eu" }).waitFor();
    expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await expectAccessible(p, "narrow");
    await shot(p, "narrow-security-constraints");
    await p.context().close();
  });

  it("/docs lists the API's operations with the outside network blocked", async () => {
    const { page: p, blocked: docsBlocked } = await openPage(browser.browser);
    await p.goto(`${server.base}/docs`);
    // Scalar lists the operations by tag (groups open on demand), the first group opened.
    await p.getByText("The caller's tenant").first().waitFor({ timeout: 30_000 });
    for (const tag of ["Settings", "Environments", "Violations", "Webhooks"]) expect(await p.getByText(tag, { exact: true }).count()).toBeGreaterThan(0);
    // No axe here: the page is Scalar's own UI (its findings belong upstream); the console's pages are checked.
    expect(await p.locator("script[src]").evaluateAll((s) => s.map((e) => (e as unknown as { src: string }).src))).toEqual([
      `${server.base}/console/vendor/scalar.js`,
    ]);
    await shot(p, "docs");
    // What Scalar asks the internet for (its registry search) is aborted and the page works without it.
    expect(docsBlocked.every((u) => !u.startsWith(server.base))).toBe(true);
    await p.context().close();
    expect(blocked).toEqual([]);
  });
});
