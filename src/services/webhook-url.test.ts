// The webhook URL policy (SSRF): every block of the IANA IPv4 and IPv6 special-purpose address
// registries is refused (first and last address of each), IPv6 forms carrying an IPv4 address
// are judged by that address, hostnames resolving to any refused address are refused, and the
// public neighbours of those blocks still pass.
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import { checkWebhookUrl, isPrivateAddress, refusedRange } from "./webhook-url.ts";

const strict = { allowHttp: false, allowPrivate: false };

// https://www.iana.org/assignments/iana-ipv4-special-registry (every entry), plus multicast.
const IPV4_SPECIAL = [
  "0.0.0.0/8",
  "0.0.0.0/32",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.0.0/29",
  "192.0.0.8/32",
  "192.0.0.9/32",
  "192.0.0.10/32",
  "192.0.0.170/32",
  "192.0.0.171/32",
  "192.0.2.0/24",
  "192.31.196.0/24",
  "192.52.193.0/24",
  "192.88.99.0/24",
  "192.168.0.0/16",
  "192.175.48.0/24",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "240.0.0.0/4",
  "255.255.255.255/32",
  "224.0.0.0/4",
];
// https://www.iana.org/assignments/iana-ipv6-special-registry (every entry), plus multicast, the
// deprecated site-local and IPv4-compatible blocks, and the IETF-reserved space outside 2000::/3.
const IPV6_SPECIAL = [
  "::1/128",
  "::/128",
  "::ffff:0:0/96",
  "64:ff9b::/96",
  "64:ff9b:1::/48",
  "100::/64",
  "100:0:0:1::/64",
  "2001::/23",
  "2001::/32",
  "2001:1::1/128",
  "2001:1::2/128",
  "2001:1::3/128",
  "2001:2::/48",
  "2001:3::/32",
  "2001:4:112::/48",
  "2001:10::/28",
  "2001:20::/28",
  "2001:30::/28",
  "2001:db8::/32",
  "2002::/16",
  "2620:4f:8000::/48",
  "3fff::/20",
  "5f00::/16",
  "fc00::/7",
  "fe80::/10",
  "ff00::/8",
  "fec0::/10",
  "::/96",
  "4000::/2",
  "1000::/4",
];

const ends = (cidr: string) => {
  const family = cidr.includes(":") ? ipaddr.IPv6 : ipaddr.IPv4;
  return [family.networkAddressFromCIDR(cidr).toString(), family.broadcastAddressFromCIDR(cidr).toString()];
};

// What the outside probe got accepted (issue 13, item 3): wrapped loopback / metadata, 6to4,
// Teredo (client 127.0.0.1 = 80ff:fffe after the XOR), the discard prefix, ::2, documentation.
const PROBE_URLS = [
  "https://[::127.0.0.1]/",
  "https://[::169.254.169.254]/",
  "https://[::ffff:0:7f00:1]/",
  "https://[2002:7f00:1::]/",
  "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
  "https://[2001::1]/",
  "https://[100::1]/",
  "https://[::2]/",
  "https://192.0.2.1/",
  "https://198.51.100.7/",
  "https://203.0.113.200/",
];

describe("webhook address classification", () => {
  it.each(IPV4_SPECIAL.flatMap((c) => ends(c).map((ip) => [c, ip])))("IPv4 special-purpose %s: %s is refused", (_c, ip) => {
    expect(refusedRange(ip)).not.toBeNull();
  });

  it.each(IPV6_SPECIAL.flatMap((c) => ends(c).map((ip) => [c, ip])))("IPv6 special-purpose %s: %s is refused", (_c, ip) => {
    expect(refusedRange(ip)).not.toBeNull();
  });

  it.each([
    // IPv4 wrapped in every IPv6 form that carries one: judged by the IPv4 address.
    ["::ffff:10.0.0.1", /ipv4Mapped of 10\.0\.0\.1: private/],
    ["::ffff:7f00:1", /ipv4Mapped of 127\.0\.0\.1: loopback/],
    ["::ffff:0:7f00:1", /rfc6145 of 127\.0\.0\.1: loopback/],
    ["::7f00:1", /ipv4Compatible of 127\.0\.0\.1: loopback/],
    // ipaddr.js reads the dotted text form "::a.b.c.d" as the mapped one; refused all the same.
    ["::127.0.0.1", / of 127\.0\.0\.1: loopback/],
    ["::a9fe:a9fe", /ipv4Compatible of 169\.254\.169\.254: linkLocal/],
    ["::2", /ipv4Compatible of 0\.0\.0\.2: unspecified/],
    ["64:ff9b::a00:1", /rfc6052 of 10\.0\.0\.1: private/],
    ["64:ff9b::192.0.2.1", /rfc6052 of 192\.0\.2\.1: reserved/],
    ["64:ff9b:1::808:808", /rfc8215/],
    ["2002:7f00:1::", /6to4 of 127\.0\.0\.1: loopback/],
    ["2002:a9fe:a9fe::1", /6to4 of 169\.254\.169\.254/],
    ["2001:0:4136:e378:8000:63bf:80ff:fffe", /teredo of 127\.0\.0\.1: loopback/],
    ["2001:0:a00:1:8000:63bf:f7f7:f7f7", /teredo of 10\.0\.0\.1: private/],
    ["100::1", /discard/],
    ["100:0:0:1::1", /dummy/],
    ["2001:db8::1", /reserved/],
    ["4000::1", /reserved/],
    ["not-an-ip", /not an IP/],
  ])("%s is refused (%s)", (ip, why) => expect(refusedRange(ip)).toMatch(why));

  it.each([
    "1.1.1.1",
    "8.8.8.8",
    "93.184.215.14",
    "11.0.0.1",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.0",
    "169.253.255.255",
    "172.15.255.255",
    "172.32.0.0",
    "192.0.1.0",
    "192.0.3.0",
    "192.167.255.255",
    "192.169.0.0",
    "198.17.255.255",
    "198.20.0.0",
    "198.51.99.255",
    "198.51.101.0",
    "203.0.112.255",
    "203.0.114.0",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "2001:200::1",
    "2620:4f:7fff::1",
    "3fff:1000::1",
    "2a00:1450::1",
    // Wrappers of a public IPv4 address reach that address.
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",
  ])("%s is public", (ip) => {
    expect(refusedRange(ip)).toBeNull();
    expect(isPrivateAddress(ip)).toBe(false);
  });
});

describe("webhook URL policy", () => {
  it.each(PROBE_URLS)("%s is refused as a literal", async (url) => {
    expect(await checkWebhookUrl(url, strict)).toMatch(/^must not point at a private, loopback, link-local or reserved address \(.+: .+\)$/);
  });

  it.each(PROBE_URLS.map((u) => new URL(u).hostname.replace(/^\[|\]$/g, "")))("a hostname resolving to %s is refused", async (address) => {
    expect(await checkWebhookUrl("https://hooks.example/x", { ...strict, resolve: async () => ["93.184.215.14", address] })).toMatch(
      /^host hooks\.example resolves to a private, loopback, link-local or reserved address/,
    );
  });

  it("hostnames are resolved: any private address refuses the URL; unresolvable hosts are refused", async () => {
    const resolve = async (h: string) =>
      ({ "public.example": ["93.184.215.14"], "rebind.example": ["93.184.215.14", "127.0.0.1"], "meta.example": ["169.254.169.254"] })[h] ??
      Promise.reject(new Error("ENOTFOUND"));
    expect(await checkWebhookUrl("https://public.example/x", { ...strict, resolve })).toBeNull();
    expect(await checkWebhookUrl("https://rebind.example/x", { ...strict, resolve })).toBe(
      "host rebind.example resolves to a private, loopback, link-local or reserved address (127.0.0.1: loopback)",
    );
    expect(await checkWebhookUrl("https://meta.example/x", { ...strict, resolve })).toBe(
      "host meta.example resolves to a private, loopback, link-local or reserved address (169.254.169.254: linkLocal)",
    );
    expect(await checkWebhookUrl("https://nowhere.example/x", { ...strict, resolve })).toMatch(/could not be resolved/);
  });

  it("http and private targets only where allowed", async () => {
    expect(await checkWebhookUrl("http://93.184.215.14/x", strict)).toMatch(/https/);
    expect(await checkWebhookUrl("http://93.184.215.14/x", { ...strict, allowHttp: true })).toBeNull();
    expect(await checkWebhookUrl("https://127.0.0.1/x", { ...strict, allowPrivate: true })).toBeNull();
    expect(await checkWebhookUrl("http://127.0.0.1:8080/x", { allowHttp: true, allowPrivate: true })).toBeNull();
    expect(await checkWebhookUrl("https://[::ffff:8.8.8.8]/x", strict)).toBeNull();
  });
});
