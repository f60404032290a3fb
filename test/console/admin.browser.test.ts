// The console's administration page in a real browser: an API key created and its secret shown
// once (and it works against the API), a webhook endpoint created and pinged, the delivery
// reaching a real receiver, signed, and its state shown; what non-admins see.
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
    await expectAccessible(page, "administration");
    await screenshot(page, `${name}-administration`);
    expect(blocked).toEqual([]);
    await page.context().close();
  });

  it("editors have no Administration link, and the page itself tells them it is for admins", async () => {
    const { page } = await openPage(browser.browser);
    await signIn(page, server.base, "hooks-co", "editor");
    expect(await page.getByRole("link", { name: "Administration" }).count()).toBe(0);
    await page.goto(`${server.base}/#/admin`);
    await page.getByText("Only admins manage API keys and webhooks.").waitFor();
    expect(await page.locator("main button, main input").count()).toBe(0);
    await page.context().close();
  });
});
