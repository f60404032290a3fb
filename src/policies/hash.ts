// Content hash over the RFC 8785 (JCS) canonical JSON form, so key order never changes it. Every
// object's gatehouse hash annotation and the agents' ETags are these hashes: for JSON values
// (all the renderer produces) JCS is byte-for-byte the keys-sorted form this file hand-wrote
// before, so no hash a deployed agent compares changed (hash.test.ts checks it against that form).
import canonicalize from "canonicalize";
import { sha256Hex } from "../lib/sha256.ts";

/** RFC 8785 canonical JSON. Throws on what JSON cannot carry (NaN, Infinity, lone surrogates, cycles). */
export function canonicalJson(value: unknown): string {
  const out = canonicalize(value);
  if (out === undefined) throw new TypeError("canonicalJson: not a JSON value");
  return out;
}

export function contentHash(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}
