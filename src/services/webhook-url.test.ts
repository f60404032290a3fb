// The webhook URL policy (SSRF): literal addresses and hostnames resolving to private, loopback,
// link-local and other non-public addresses are refused unless allowed.
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, isPrivateAddress } from "./webhook-url.ts";

const strict = { allowHttp: false, allowPrivate: false };

describe("webhook URL policy", () => {
  it.each([
    "127.0.0.1", "127.255.0.1", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "255.255.255.255", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:7f00:1", "64:ff9b::a00:1",
  ])("%s is not public", (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each(["93.184.215.14", "8.8.8.8", "172.32.0.1", "192.169.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])("%s is public", (ip) => expect(isPrivateAddress(ip)).toBe(false));

  it("hostnames are resolved: any private address refuses the URL; unresolvable hosts are refused", async () => {
    const resolve = async (h: string) => ({ "public.example": ["93.184.215.14"], "rebind.example": ["93.184.215.14", "127.0.0.1"], "meta.example": ["169.254.169.254"] })[h] ?? Promise.reject(new Error("ENOTFOUND"));
    expect(await checkWebhookUrl("https://public.example/x", { ...strict, resolve })).toBeNull();
    expect(await checkWebhookUrl("https://rebind.example/x", { ...strict, resolve })).toMatch(/resolves to a private/);
    expect(await checkWebhookUrl("https://meta.example/x", { ...strict, resolve })).toMatch(/resolves to a private/);
    expect(await checkWebhookUrl("https://nowhere.example/x", { ...strict, resolve })).toMatch(/could not be resolved/);
  });

  it("http and private targets only where allowed", async () => {
    expect(await checkWebhookUrl("http://93.184.215.14/x", strict)).toMatch(/https/);
    expect(await checkWebhookUrl("http://93.184.215.14/x", { ...strict, allowHttp: true })).toBeNull();
    expect(await checkWebhookUrl("https://127.0.0.1/x", { ...strict, allowPrivate: true })).toBeNull();
    expect(await checkWebhookUrl("http://127.0.0.1:8080/x", { allowHttp: true, allowPrivate: true })).toBeNull();
  });
});
