// The fleet and the violation history in a real browser against a real `npm start` on each store:
// an environment created with labels (a bad one refused at its field) and a preset; each
// environment's Gatekeeper version and health from its agent's status; the label filter; then a
// violation opened, resolved and reopened by the agent's audit reports — the daily trend, and that
// violation's openings and resolutions; all of it on a narrow window; another tenant's violation id is "Not found".
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { constraintAudit, statusReport, violation } from "../harness/agent-api.ts";
import { backends } from "../harness/backends.ts";
import { consoleAgent, expectAccessible, launchBrowser, openPage, screenshot, signIn, startConsoleServer, type ConsoleServer } from "./harness.ts";

// Callbacks passed to page.evaluate run in the browser; the test's tsconfig has no DOM lib.
declare const document: { documentElement: { scrollWidth: number } };

describe.each(backends())("fleet and violations on $name", ({ name }) => {
  let server: ConsoleServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let page: Page;
  let blocked: string[];
  let admin: string;
  let eu: Awaited<ReturnType<typeof consoleAgent>>;
  let violationId: string;
  let clock = Date.now() - 60_000;
  const at = () => new Date((clock += 1000)).toISOString();

  beforeAll(async () => {
    [server, browser] = await Promise.all([startConsoleServer(name), launchBrowser()]);
    admin = await server.token("fleet-co", "admin");
    ({ page, blocked } = await openPage(browser.browser));
    await signIn(page, server.base, "fleet-co", "admin");
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("creates an environment with labels (a bad label shown at its field) and a preset", async () => {
    await page.getByRole("heading", { name: "Fleet" }).waitFor();
    await page.getByLabel("Name").fill("prod-eu");
    await page.getByLabel(/Labels/).fill("region=eu, bad key=x");
    await page.getByLabel("Preset").selectOption("restricted");
    await page.getByRole("button", { name: "Create environment" }).click();
    const labels = page.locator("#f-labels");
    await expect.poll(() => labels.getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#f-labels-err").textContent()).toContain("bad key: must be a Kubernetes label key");
    await labels.fill("region=eu, tier=prod");
    await page.getByRole("button", { name: "Create environment" }).click();
    await page.getByRole("heading", { name: "Agent install manifest: prod-eu" }).waitFor();
    const list = (await (await server.api("GET", "/v1/environments", admin)).json()) as {
      items: { id: string; name: string; labels: Record<string, string>; currentRevision: number }[];
    };
    expect(list.items).toEqual([expect.objectContaining({ name: "prod-eu", labels: { region: "eu", tier: "prod" } })]);
    const settings = (await (await server.api("GET", `/v1/environments/${list.items[0]!.id}/settings`, admin)).json()) as {
      settings: { controls: Record<string, unknown> };
    };
    expect(Object.keys(settings.settings.controls)).toContain("seccomp"); // restricted, not baseline
  });

  it("shows each environment's Gatekeeper version and health from its agent, and filters by label", async () => {
    const envs = ((await (await server.api("GET", "/v1/environments", admin)).json()) as { items: { id: string }[] }).items;
    const us = await server.api("POST", "/v1/environments", admin, { name: "prod-us", labels: { region: "us" } });
    expect(us.status).toBe(201);
    eu = await consoleAgent(server, admin, envs[0]!.id);
    const usAgent = await consoleAgent(server, admin, ((await us.json()) as { id: string }).id);
    await eu.post(
      "/agent/v1/status",
      statusReport({ gatekeeper: { installed: true, version: "v3.17.1", webhook: { service: "gatekeeper-webhook-service", readyEndpoints: 2, ready: true } } }),
    );
    await usAgent.post(
      "/agent/v1/status",
      statusReport({
        gatekeeper: { installed: true, version: "v3.16.0", webhook: { service: "gatekeeper-webhook-service", readyEndpoints: 0, ready: false } },
      }),
    );

    await page.getByRole("link", { name: "Violations" }).click(); // away and back: the fleet loads afresh
    await page.getByRole("link", { name: "Fleet" }).click();
    const euRow = page.getByRole("row", { name: /prod-eu/ });
    const usRow = page.getByRole("row", { name: /prod-us/ });
    await expect.poll(() => euRow.textContent()).toContain("v3.17.1");
    expect(await euRow.textContent()).toContain("healthy");
    expect(await euRow.textContent()).toContain("Online");
    expect(await euRow.textContent()).toContain("in sync");
    expect(await usRow.textContent()).toContain("v3.16.0");
    expect(await usRow.textContent()).toContain("Degraded");
    expect(await usRow.textContent()).toContain("admission webhook has no ready endpoint");
    await expectAccessible(page, "fleet with agents");
    await screenshot(page, `${name}-fleet-agents`);

    await page.getByLabel(/Filter by label/).fill("region=eu");
    await page.getByRole("button", { name: "Filter" }).click();
    await expect.poll(() => usRow.count()).toBe(0);
    expect(await euRow.count()).toBe(1);
  });

  it("a violation opened, resolved and opened again: the trend over days and its openings and resolutions", async () => {
    const web = violation(1, { namespace: "team-a", name: "web-1", message: "pod team-a/web-1: privileged" });
    const report = (violations: ReturnType<typeof violation>[]) => ({
      collectedAt: at(),
      constraints: [constraintAudit({ auditTimestamp: at(), totalViolations: violations.length, violations })],
    });
    await eu.post("/agent/v1/audit-report", report([web]));
    await eu.post("/agent/v1/audit-report", report([]));
    await eu.post("/agent/v1/audit-report", report([web]));

    await page.getByRole("link", { name: "Violations" }).click();
    const trend = page.getByRole("region", { name: "Trend" });
    await expect
      .poll(() => trend.getByRole("img").getAttribute("aria-label"))
      .toBe("Open violations per day over the last 30 days: 1 open today, 2 opened and 1 resolved in that time.");
    await trend.getByText("The numbers per day").click();
    const today = new Date().toISOString().slice(0, 10);
    expect(await trend.getByRole("row", { name: today }).textContent()).toBe(`${today}211`);
    await trend.getByLabel("Days shown").selectOption("7");
    await expect.poll(() => trend.getByRole("row").count()).toBe(8); // the header and 7 days
    await expectAccessible(page, "violations with trend");
    await screenshot(page, `${name}-violations-trend`);

    await page.getByRole("link", { name: "Pod team-a/web-1" }).click();
    await page.getByRole("heading", { name: "Violation: Pod team-a/web-1" }).waitFor();
    violationId = decodeURIComponent(new URL(page.url()).hash.split("/")[2]!);
    const history = page.locator("ol.timeline li");
    await expect.poll(() => history.allTextContents()).toHaveLength(3);
    expect((await history.allTextContents()).map((t) => t.split(" ")[0])).toEqual(["Opened", "Resolved", "Opened"]);
    expect(await page.locator("dl.facts").textContent()).toContain("Occurrences2");
    await expectAccessible(page, "violation");
    await screenshot(page, `${name}-violation`);
    expect(blocked).toEqual([]);
  });

  it("the fleet, the violations with their trend and one violation fit a narrow window", async () => {
    const { page: p } = await openPage(browser.browser, 390);
    await signIn(p, server.base, "fleet-co", "viewer");
    const pages = [
      ["#/", "Fleet", "text=prod-us"],
      ["#/violations", "Violations", "text=pod team-a/web-1: privileged"],
      [`#/violations/${violationId}`, "Violation: Pod team-a/web-1", "ol.timeline li"],
    ] as const;
    for (const [hash, heading, loaded] of pages) {
      await p.goto(`${server.base}/${hash}`);
      await p.getByRole("heading", { name: heading }).waitFor();
      await p.locator(loaded).first().waitFor();
      expect(await p.evaluate(() => document.documentElement.scrollWidth), hash).toBeLessThanOrEqual(390);
    }
    await expectAccessible(p, "narrow violation");
    await p.context().close();
  });

  it("another tenant's violation id shows 'not found'", async () => {
    const { page: p } = await openPage(browser.browser);
    await signIn(p, server.base, "other-co", "viewer");
    await p.goto(`${server.base}/#/violations/${violationId}`);
    await p.getByRole("heading", { name: "Not found" }).waitFor();
    expect(await p.getByText("No such violation in this tenant.").count()).toBe(1);
    await p.context().close();
  });
});
