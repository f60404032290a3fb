// The Node dispatcher's fetch connects only where the URL check allowed: the addresses are checked
// at connect time, so a DNS answer that changes between the check and the request (rebinding)
// cannot reach a private address. Real receiver on 127.0.0.1; the "attacker's DNS" is a lookup
// function answering what the test says.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, type Receiver } from "../../test/harness/webhook-receiver.ts";
import { publicOnlyFetch, type Lookup } from "./webhook-fetch.ts";
import { checkWebhookUrl } from "./webhook-url.ts";

/** A DNS that answers `address` for every name, and counts the questions. */
function dnsAnswering(address: string) {
  const asked: string[] = [];
  const lookup: Lookup = (hostname, options, cb) => {
    asked.push(hostname);
    const family = address.includes(":") ? 6 : 4;
    if (options.all) cb(null, [{ address, family }]);
    else cb(null, address, family);
  };
  return { lookup, asked };
}

/** Why a fetch failed: undici puts the connect error in `cause`. */
const failure = (p: Promise<unknown>) =>
  p.then(
    () => "no error",
    (e: Error & { cause?: Error & { code?: string } }) => `${e.cause?.code}: ${e.cause?.message}`,
  );

describe("publicOnlyFetch", () => {
  let receiver: Receiver;
  let port: string;
  beforeAll(async () => {
    receiver = await startReceiver();
    port = new URL(receiver.url).port;
  });
  afterAll(() => receiver?.close());

  it("a name resolving to loopback is refused at connect time; nothing reaches the receiver", async () => {
    const f = publicOnlyFetch({ allowPrivate: false });
    expect(await failure(f(`http://localhost:${port}/hooks`, { method: "POST", body: "{}" }))).toMatch(
      /^EPRIVATEADDRESS: host localhost resolves to a private, loopback, link-local or reserved address \((127\.0\.0\.1|::1): loopback\)$/,
    );
    expect(receiver.received).toHaveLength(0);
  });

  it("DNS rebinding: the check saw a public address, the connection would get 127.0.0.1 — refused", async () => {
    const url = `http://hooks.rebind.example:${port}/hooks`;
    // At check time the attacker's DNS answers a public address: the URL passes.
    expect(await checkWebhookUrl(url, { allowHttp: true, allowPrivate: false, resolve: async () => ["93.184.216.34"] })).toBeNull();
    // At connect time it answers loopback.
    const dns = dnsAnswering("127.0.0.1");
    const f = publicOnlyFetch({ allowPrivate: false, lookup: dns.lookup });
    expect(await failure(f(url, { method: "POST", body: "{}" }))).toBe(
      "EPRIVATEADDRESS: host hooks.rebind.example resolves to a private, loopback, link-local or reserved address (127.0.0.1: loopback)",
    );
    expect(dns.asked).toEqual(["hooks.rebind.example"]);
    expect(receiver.received).toHaveLength(0);
  });

  it("the same connection goes through when private addresses are allowed (WEBHOOK_ALLOW_PRIVATE), so the refusal is the guard's", async () => {
    const dns = dnsAnswering("127.0.0.1");
    const f = publicOnlyFetch({ allowPrivate: true, lookup: dns.lookup });
    const res = await f(`http://hooks.rebind.example:${port}/hooks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "x", version: 1, timestamp: "t", data: {} }),
    });
    // It reached the receiver, which refuses an unsigned request.
    expect(res.status).toBe(401);
    expect(receiver.received).toMatchObject([{ verified: false }]);
  });

  it("keeps what the dispatcher relies on from fetch: the timeout signal aborts a hanging receiver; redirects are not followed", async () => {
    const f = publicOnlyFetch({ allowPrivate: true });
    receiver.mode = "hang";
    try {
      const started = Date.now();
      await expect(f(`${receiver.url}`, { method: "POST", body: "{}", signal: AbortSignal.timeout(300) })).rejects.toMatchObject({ name: "TimeoutError" });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      receiver.mode = "ok";
    }
    const redirecting = createServer((_req, res) => res.writeHead(302, { location: receiver.url }).end());
    await new Promise<void>((r) => redirecting.listen(0, "127.0.0.1", r));
    try {
      const before = receiver.received.length;
      const res = await f(`http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/`, { method: "POST", body: "{}", redirect: "manual" });
      expect(res.status).toBe(302);
      expect(receiver.received.length).toBe(before);
    } finally {
      redirecting.close();
    }
  });

  it("an IPv6 loopback, a wrapped private IPv4 or a reserved answer is refused too (the forms issue 13 found)", async () => {
    const before = receiver.received.length;
    for (const address of [
      "::1",
      "::ffff:10.0.0.1",
      "169.254.169.254",
      "::7f00:1",
      "::a9fe:a9fe",
      "::ffff:0:7f00:1",
      "2002:7f00:1::",
      "2001:0:4136:e378:8000:63bf:80ff:fffe",
      "100::1",
      "::2",
      "192.0.2.1",
      "198.51.100.7",
      "203.0.113.200",
    ]) {
      const f = publicOnlyFetch({ allowPrivate: false, lookup: dnsAnswering(address).lookup });
      expect(await failure(f(`http://metadata.rebind.example:${port}/`, {}))).toContain(`(${address}: `);
    }
    expect(receiver.received).toHaveLength(before);
  });
});
