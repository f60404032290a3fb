// Large JSON documents (audit reports, megabytes of repetitive messages) are stored gzipped in a
// bytea: compressing here costs a few milliseconds, where sending and parsing them as jsonb cost
// PostgreSQL (and the wire) a hundred times the bytes. node:zlib is in Node and in Workers
// (nodejs_compat).
import { gunzipSync, gzipSync } from "node:zlib";

/** JSON, gzipped at level 1: these documents compress 40:1 even at the fastest level. */
export function gzipJson(value: unknown): Uint8Array {
  return gzipSync(JSON.stringify(value), { level: 1 });
}

/** The value gzipJson stored; also plain UTF-8 JSON (rows migrated from jsonb, see migrations/). */
export function gunzipJson(bytes: Uint8Array): unknown {
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b; // JSON text never starts with 0x1f
  return JSON.parse(new TextDecoder().decode(gzipped ? gunzipSync(bytes) : bytes));
}
