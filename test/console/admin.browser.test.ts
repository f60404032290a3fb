// The console's administration pages in a real browser: an API key created and its secret shown
// once (and it works against the API); an agent credential created (its token works against the
// agent protocol), then revoked (it no longer does); a webhook endpoint created and pinged, the
// delivery reaching a real receiver, signed, its attempts shown and redelivered; the audit log
// with filters (a bad one refused at its field) and paging; what non-admins see.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../harness/backends.ts";
import { startReceiver, type Receiver } from "../harness/webhook-receiver.ts";
import { expectAccessible, launchBrowser, openPage, screenshot, signIn, startConsoleServer, type ConsoleServer } from "./harness.ts";

describe.each(backends())("administration on $name", ({ name }) => {
  let server: ConsoleServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;
  let receiver: Receiver;

  beforeAll(async () => {
    receiver = await startReceiver();
    // Webhooks to a receiver on loopback over http: allowed here as in development.
    const env = { WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOW_PRIVATE: "true", WEBHOOK_DISPATCH_INTERVAL_MS: "200" };
    [server, browser] = await Promise.all([startConsoleServer(name, env), launchBrowser()]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await receiver?.close();
  });

  it("creates an API key (secret shown once, and it works), then a webhook that a ping reaches", async () => {
    const { page, blocked } = await openPage(browser.browser);
    await signIn(page, server.base, "hooks-co", "admin");
    await page.getByRole("link", { name: "Administration" }).click();
    await page.getByRole("heading", { name: "Administration" }).waitFor();

    await page.getByLabel("Key name").fill("ci");
    await page.getByLabel("Role", { exact: true }).selectOption("viewer");
    await page.getByRole("button", { name: "Create API key" }).click();
    const secret = (await page.getByRole("region", { name: "API keys" }).locator(".secret-value").textContent())!;
    expect(secret).toMatch(/^ghk_/);
    const tenant = await fetch(`${server.base}/v1/tenant`, { headers: { authorization: `Bearer ${secret}` } });
    expect(await tenant.json()).toMatchObject({ slug: "hooks-co", role: "viewer" });

    await page.getByLabel("Endpoint URL").fill(receiver.url);
    await page.getByRole("button", { name: "Create webhook" }).click();
    const hook = page.getByRole("article", { name: `Webhook ${receiver.url}` });
    await hook.waitFor();
    receiver.secret = (await page.getByRole("region", { name: "Webhooks" }).locator(".secret-value").textContent())!;
    expect(receiver.secret).toMatch(/^whsec_/);
    await hook.getByRole("button", { name: "Send a ping" }).click();
    await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(1);
    expect(receiver.received[0]).toMatchObject({ verified: true, body: { type: "webhook.ping" } });
    await expect.poll(() => hook.textContent(), { timeout: 20_000 }).toContain("succeeded");
    await hook.getByRole("button", { name: "Show attempts" }).click();
    await expect.poll(() => hook.locator("ol.attempts li").allTextContents()).toEqual([expect.stringMatching(/^attempt 1 · .+ · HTTP 2\d\d · \d+ ms$/)]);
    await hook.getByRole("button", { name: "Redeliver" }).click();
    await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(2);
    // The same delivery again: a receiver can tell by its webhook-id.
    expect(receiver.received[1]!.id).toBe(receiver.received[0]!.id);
    await expect.poll(() => hook.locator("ol.attempts li").count(), { timeout: 20_000 }).toBe(2);
    await expectAccessible(page, "administration");
    await screenshot(page, `${name}-administration`);
    expect(blocked).toEqual([]);
    await page.context().close();
  });

  it("an agent credential: its token shown once works against the agent protocol until it is revoked", async () => {
    const admin = await server.token("hooks-co", "admin");
    expect((await server.api("POST", "/v1/environments", admin, { name: "edge" })).status).toBe(201);
    const { page } = await openPage(browser.browser);
    await signIn(page, server.base, "hooks-co", "admin");
    await page.getByRole("link", { name: "Administration" }).click();
    const creds = page.getByRole("region", { name: "Agent credentials" });
    await creds.getByLabel("Environment").selectOption({ label: "edge" });
    await creds.getByRole("button", { name: "Create agent credential" }).click();
    const secret = (await creds.locator(".secret-value").textContent())!;
    expect(secret).toMatch(/^gha_/);
    expect(await creds.getByRole("link", { name: /Download its install manifest/ }).getAttribute("download")).toBe("gatehouse-agent-edge.yaml");
    const desired = () => fetch(`${server.base}/agent/v1/desired-state`, { headers: { authorization: `Bearer ${secret}` } }).then((r) => r.status);
    expect(await desired()).toBe(200);
    const prefix = secret.split("_")[1]!;
    await expectAccessible(page, "agent credentials");
    await screenshot(page, `${name}-agent-credentials`);
    await creds.getByRole("button", { name: `Revoke ${prefix}` }).click();
    await expect.poll(() => creds.getByRole("row", { name: new RegExp(prefix) }).textContent()).toContain("revoked");
    expect(await desired()).toBe(401);
    await page.context().close();
  });

  it("the audit log: what was done, filtered (a bad filter shown at its field), paged", async () => {
    const admin = await server.token("hooks-co", "admin", "ops@hooks-co");
    const env = ((await (await server.api("GET", "/v1/environments", admin)).json()) as { items: { id: string }[] }).items[0]!;
    for (let i = 0; i < 30; i++) expect((await server.api("PATCH", `/v1/environments/${env.id}`, admin, { description: `take ${i}` })).status).toBe(200);
    const { page } = await openPage(browser.browser);
    await signIn(page, server.base, "hooks-co", "admin");
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(25);
    expect(await rows.first().textContent()).toContain("environment.update");
    await rows
      .first()
      .getByRole("button", { name: /^Show \d+ changes?$/ })
      .click();
    await expect.poll(() => rows.first().textContent()).toContain('description: "take 28" → "take 29"');

    await page.getByLabel("Action").fill("agent_credential.*");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => page.locator("tbody th").allTextContents()).toEqual(["agent_credential.revoke", "agent_credential.create"]);
    await expectAccessible(page, "audit log");
    await screenshot(page, `${name}-audit-log`);

    await page.getByLabel("Action").fill("agent*credential");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => page.locator("#f-audit-action").getAttribute("aria-invalid")).toBe("true");
    expect(await page.locator("#f-audit-action-err").textContent()).toBe("'*' may only end the filter");

    await page.getByLabel("Action").fill("environment.update");
    await page.getByLabel("Actor").fill("ops@hooks-co");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => rows.count()).toBe(25);
    await page.getByRole("button", { name: "Older entries" }).click();
    await expect.poll(() => rows.count()).toBe(5);
    expect(await rows.last().textContent()).toContain("environment.update");
    expect(await page.getByRole("button", { name: "Older entries" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Newer entries" }).click();
    await expect.poll(() => rows.count()).toBe(25);
    await page.context().close();
  });

  it("editors have no Administration or Audit log link, and the pages themselves tell them they are for admins", async () => {
    const { page } = await openPage(browser.browser);
    await signIn(page, server.base, "hooks-co", "editor");
    expect(await page.getByRole("link", { name: /Administration|Audit log/ }).count()).toBe(0);
    await page.goto(`${server.base}/#/admin`);
    await page.getByText("Only admins manage API keys, agent credentials and webhooks.").waitFor();
    expect(await page.locator("main button, main input, main select").count()).toBe(0);
    await page.goto(`${server.base}/#/audit-log`);
    await page.getByText("Only admins read the audit log.").waitFor();
    expect(await page.locator("main button, main input, main select").count()).toBe(0);
    await page.context().close();
  });
});
