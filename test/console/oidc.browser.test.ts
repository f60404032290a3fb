// The console's OpenID Connect sign-in in a real browser: `npm start` with JWKS_URL pointing at a
// real (test) provider, authorization code + PKCE, the token kept in memory only, sign-out, and
// no development sign-in anywhere.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectAccessible, launchBrowser, openPage, screenshot, startConsoleServer, type ConsoleServer } from "./harness.ts";
import { startOidcProvider, type TestOidcProvider } from "./oidc-provider.ts";

declare const localStorage: { length: number };
declare const sessionStorage: { length: number };

describe("OpenID Connect sign-in (authorization code + PKCE)", () => {
  let idp: TestOidcProvider;
  let server: ConsoleServer;
  let browser: Awaited<ReturnType<typeof launchBrowser>>;

  beforeAll(async () => {
    idp = await startOidcProvider("gatehouse");
    [server, browser] = await Promise.all([
      startConsoleServer("pglite", { JWKS_URL: idp.jwksUrl, JWT_ISSUER: idp.issuer, JWT_AUDIENCE: "gatehouse", CONSOLE_OIDC_CLIENT_ID: idp.clientId }),
      launchBrowser(),
    ]);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await idp?.close();
  });

  it("signs in at the issuer, keeps the token only in memory, and signs out", async () => {
    const { page, blocked } = await openPage(browser.browser);
    await page.goto(`${server.base}/#/violations`);
    const button = page.getByRole("button", { name: `Sign in with ${new URL(idp.issuer).host}` });
    await button.waitFor();
    expect(await page.getByLabel("Tenant").count()).toBe(0);
    await expectAccessible(page, "oidc sign-in");
    await screenshot(page, "oidc-sign-in");
    await button.click();

    // Back from the issuer: the code exchanged (with the PKCE verifier), the page it started on.
    await page.getByRole("heading", { name: "Violations" }).waitFor();
    expect(await page.locator(".who").textContent()).toBe("acme-oidc · editor");
    expect(idp.exchanges).toEqual([{ pkce: true, status: 200 }]);
    expect(new URL(page.url()).search).toBe("");
    expect(await page.evaluate(() => [localStorage.length, sessionStorage.length])).toEqual([0, 0]);

    await page.getByRole("button", { name: "Sign out" }).click();
    await button.waitFor();
    await page.reload();
    await button.waitFor();
    expect(blocked).toEqual([]);
  });

  it("has no development sign-in route", async () => {
    expect(
      (await fetch(`${server.base}/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"tenant":"acme","role":"admin"}' }))
        .status,
    ).toBe(404);
  });
});
