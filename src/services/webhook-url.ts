// Which webhook URLs Gatehouse will call. Server-side request forgery is the risk: an endpoint
// URL is a request our servers make on a tenant's behalf, so by default only https:// to public
// addresses is allowed — a literal private, loopback, link-local, CGNAT, multicast or reserved
// IP is refused, and so is a hostname resolving to one. Checked when an endpoint is created or
// changed, and again before every attempt (DNS can change in between).
export interface UrlPolicy {
  allowHttp: boolean;
  allowPrivate: boolean;
  /** Addresses of a hostname (default: node:dns lookup, all families). */
  resolve?: (hostname: string) => Promise<string[]>;
}

function v4Private(ip: string): boolean {
  const p = ip.split(".").map(Number);
  if (p.length !== 4 || p.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return true;
  const [a, b] = p as [number, number, number, number];
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 || // this network, private, loopback, multicast + reserved
    (a === 100 && b >= 64 && b <= 127) || // CGNAT
    (a === 169 && b === 254) || // link-local (cloud metadata)
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0 && p[2] === 0) ||
    (a === 198 && (b === 18 || b === 19)) // benchmarking
  );
}

function v6Private(ip: string): boolean {
  const s = ip.toLowerCase().replace(/^\[|\]$/g, "");
  const mapped = /^(?:0*:)*:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s) ?? /^::(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (mapped) return v4Private(mapped[1]!);
  if (/^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/.test(s)) {
    const [hi, lo] = s.slice(7).split(":").map((h) => parseInt(h, 16)) as [number, number];
    return v4Private(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  if (s === "::" || s === "::1" || /^0*(:0*)*:0*1?$/.test(s)) return true;
  const first = parseInt(s.split(":")[0] || "0", 16);
  return (
    (first & 0xfe00) === 0xfc00 || // unique local
    (first & 0xffc0) === 0xfe80 || // link-local
    (first & 0xff00) === 0xff00 || // multicast
    s.startsWith("64:ff9b:") || // NAT64 (embeds IPv4)
    s.startsWith("2001:db8:") // documentation
  );
}

const isV4 = (h: string) => /^\d+\.\d+\.\d+\.\d+$/.test(h);
const isV6 = (h: string) => h.includes(":");

/** Is this literal address private, loopback, link-local or otherwise not a public unicast one? */
export function isPrivateAddress(ip: string): boolean {
  return isV4(ip) ? v4Private(ip) : isV6(ip) ? v6Private(ip) : true;
}

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
  if (isV4(host) || isV6(host)) return isPrivateAddress(host) ? "must not point at a private, loopback or link-local address" : null;
  if (host === "localhost" || host.endsWith(".localhost")) return "must not point at a private, loopback or link-local address";
  let addresses: string[];
  try {
    addresses = await (policy.resolve ?? defaultResolve)(host);
  } catch {
    return `host ${host} could not be resolved`;
  }
  if (!addresses.length) return `host ${host} could not be resolved`;
  if (addresses.some(isPrivateAddress)) return `host ${host} resolves to a private, loopback or link-local address`;
  return null;
}
