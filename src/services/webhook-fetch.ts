// Node only: the fetch the webhook dispatcher uses there. checkWebhookUrl resolves an endpoint's
// hostname before each attempt, but fetch resolves it again to connect, and a hostile DNS server
// can answer a public address to the first lookup and 127.0.0.1 to the second (DNS rebinding).
// This fetch checks the addresses it actually connects to: the lookup behind every new
// connection refuses any address refusedRange refuses — the very function the create, PATCH and
// pre-attempt checks use, so the three can never disagree. (Workers fetch leaves from
// Cloudflare's edge, which reaches no private network of ours: nothing to pin there.)
import dns from "node:dns";
import { Agent, fetch as undiciFetch } from "undici";
import { refusedRange } from "./webhook-url.ts";

type LookupAddress = { address: string; family: number };
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type Lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

/** A fetch whose connections go only to public addresses (unless allowPrivate). */
export function publicOnlyFetch(opts: { allowPrivate: boolean; lookup?: Lookup }): typeof fetch {
  const base = opts.lookup ?? (dns.lookup as unknown as Lookup);
  const lookup: Lookup = (hostname, options, callback) =>
    base(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "");
      const all = addresses as LookupAddress[];
      const refused = opts.allowPrivate ? undefined : all.map((a) => ({ address: a.address, why: refusedRange(a.address) })).find((a) => a.why);
      if (refused) {
        const e: NodeJS.ErrnoException = new Error(
          `host ${hostname} resolves to a private, loopback, link-local or reserved address (${refused.address}: ${refused.why})`,
        );
        e.code = "EPRIVATEADDRESS";
        return callback(e, "");
      }
      if (!all.length) return callback(Object.assign(new Error(`host ${hostname} could not be resolved`), { code: "ENOTFOUND" }), "");
      // net.connect asks for one address or, when it races families, for all of them.
      if (options.all) callback(null, all);
      else callback(null, all[0]!.address, all[0]!.family);
    });
  const dispatcher = new Agent({ connect: { lookup } });
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher })) as unknown as typeof fetch;
}
