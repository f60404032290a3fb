// Which webhook URLs Gatehouse will call. Server-side request forgery is the risk: an endpoint
// URL is a request our servers make on a tenant's behalf, so by default only https:// to public
// unicast addresses is allowed — a literal address in any special-purpose range (private,
// loopback, link-local, CGNAT, multicast, documentation, benchmarking, reserved, …) is refused,
// and so is a hostname resolving to one. Checked when an endpoint is created or changed, again
// before every attempt (DNS can change in between), and — on Node — on the addresses each
// connection uses (webhook-fetch.ts calls refusedRange too).
//
// The classification is ipaddr.js's range table (kept up to date with the IANA registries)
// rather than hand-written prefix tests, which missed IPv4-compatible, 6to4 and Teredo forms.
// IPv6 forms that carry an IPv4 address are unwrapped and that address classified as well, so
// ::ffff:8.8.8.8 is as public as 8.8.8.8 and ::127.0.0.1 as loopback as 127.0.0.1.
import ipaddr from "ipaddr.js";

export interface UrlPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
  /** Addresses of a hostname (default: node:dns lookup, all families). */
  resolve?: (hostname: string) => Promise<string[]>;
}

type Cidr = [ipaddr.IPv6, number];
const cidr6 = (s: string) => ipaddr.IPv6.parseCIDR(s) as Cidr;

// IANA special-purpose blocks ipaddr.js 2.5 calls "unicast" (its IPv4 table covers the whole IPv4
// registry). Anything outside 2000::/3, the only block IANA allocates as global unicast, is
// "Reserved by IETF" in the IPv6 address-space registry: that one rule also covers the RFC 9780
// dummy prefix, listed by name only for a clearer message.
const EXTRA_V6: [name: string, range: Cidr][] = [
  ["dummy", cidr6("100:0:0:1::/64")], // RFC 9780
];
const IPV4_COMPATIBLE = cidr6("::/96"); // RFC 4291 §2.5.5.1, deprecated: unwrapped like the mapped form
const GLOBAL_UNICAST_V6 = cidr6("2000::/3");
const NAT64_LOCAL = cidr6("64:ff9b:1::/48"); // RFC 8215 local-use: where the IPv4 sits is the operator's choice

const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 255, lo >> 8, lo & 255]);

/** The IPv4 addresses an IPv6 address carries (and reaches through), by the form's rules. */
function embeddedV4(a: ipaddr.IPv6, range: string): ipaddr.IPv4[] {
  const p = a.parts;
  switch (range) {
    case "ipv4Mapped": // ::ffff:a.b.c.d
    case "rfc6145": // IPv4-translated ::ffff:0:a.b.c.d
      return [v4(p[6]!, p[7]!)];
    case "rfc6052": // NAT64 64:ff9b::a.b.c.d (the local-use /48 is refused before this)
      return [v4(p[6]!, p[7]!)];
    case "6to4": // 2002:AABB:CCDD::/48 → AA.BB.CC.DD
      return [v4(p[1]!, p[2]!)];
    case "teredo": // 2001:0:<server v4>:<flags>:<port>:<client v4 XOR ffffffff>
      return [v4(p[2]!, p[3]!), v4(p[6]! ^ 0xffff, p[7]! ^ 0xffff)];
    case "unicast": // IPv4-compatible ::a.b.c.d (:: and ::1 have their own ranges)
      return a.match(IPV4_COMPATIBLE) ? [v4(p[6]!, p[7]!)] : [];
    default:
      return [];
  }
}

function refusedV4(a: ipaddr.IPv4): string | null {
  const range = a.range();
  return range === "unicast" ? null : range;
}

/**
 * Why this literal address may not be called (the name of its special-purpose range), or null
 * when it is public unicast. Anything that does not parse as an address is refused.
 */
export function refusedRange(ip: string): string | null {
  let a: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    a = ipaddr.parse(ip.replace(/^\[|\]$/g, ""));
  } catch {
    return "not an IP address";
  }
  if (a.kind() === "ipv4") return refusedV4(a as ipaddr.IPv4);
  const a6 = a as ipaddr.IPv6;
  if (a6.match(NAT64_LOCAL)) return "rfc8215";
  const range = a6.range();
  const carried = embeddedV4(a6, range);
  if (carried.length) {
    for (const inner of carried) {
      const why = refusedV4(inner);
      if (why) return `${range === "unicast" ? "ipv4Compatible" : range} of ${inner.toString()}: ${why}`;
    }
    // A wrapper of public IPv4 addresses reaches what they reach: judged by them alone.
    return null;
  }
  if (range !== "unicast") return range;
  for (const [name, r] of EXTRA_V6) if (a6.match(r)) return name;
  return a6.match(GLOBAL_UNICAST_V6) ? null : "reserved";
}

/** Is this literal address in a special-purpose range (private, loopback, reserved, …)? */
export function isPrivateAddress(ip: string): boolean {
  return refusedRange(ip) !== null;
}

const isV4 = (h: string) => /^\d+\.\d+\.\d+\.\d+$/.test(h);
const isV6 = (h: string) => h.includes(":");
const REFUSED = "a private, loopback, link-local or reserved address";

async function defaultResolve(hostname: string): Promise<string[]> {
  const dns = await import("node:dns/promises");
  return (await dns.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);
}

/** null when the URL may be called; otherwise why not (a message for a 400 or a delivery error). */
export async function checkWebhookUrl(raw: string, policy: UrlPolicy): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "https:" && !(policy.allowHttp && url.protocol === "http:")) {
    return policy.allowHttp ? "must be an http or https URL" : "must be an https URL";
  }
  if (url.username || url.password) return "must not carry credentials";
  if (policy.allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  // WHATWG URL parsing already normalises 0x7f.1, 2130706433 and friends to dotted IPv4.
  if (isV4(host) || isV6(host)) {
    const why = refusedRange(host);
    return why ? `must not point at ${REFUSED} (${host}: ${why})` : null;
  }
  if (host === "localhost" || host.endsWith(".localhost")) return `must not point at ${REFUSED} (${host})`;
  let addresses: string[];
  try {
    addresses = await (policy.resolve ?? defaultResolve)(host);
  } catch {
    return `host ${host} could not be resolved`;
  }
  if (!addresses.length) return `host ${host} could not be resolved`;
  for (const address of addresses) {
    const why = refusedRange(address);
    if (why) return `host ${host} resolves to ${REFUSED} (${address}: ${why})`;
  }
  return null;
}
