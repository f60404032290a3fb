// Opaque credentials: `ghk_<prefix>_<secret>` (API keys) and `gha_<prefix>_<secret>` (agent
// credentials). The prefix is a public lookup id stored in clear; only sha256(secret) is stored,
// so a database leak does not leak usable keys. The full token is shown once, at creation.
// Runtime-agnostic (node:crypto where it has one-shot hashing, noble otherwise, Web Crypto for
// randomness), so the app runs on Workers as on Node.
import { bytesToHex } from "@noble/hashes/utils.js";
import { base64url } from "jose";
import { sha256Hex } from "../lib/sha256.ts";

export type CredentialKind = "ghk" | "gha";

export interface ParsedCredential {
  kind: CredentialKind;
  prefix: string;
  secret: string;
}

// Prefix: lowercase hex (no "_"), so the token splits unambiguously; secret: base64url.
const PATTERN = /^(ghk|gha)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function parseCredential(token: string): ParsedCredential | undefined {
  const m = PATTERN.exec(token);
  if (!m) return undefined;
  return { kind: m[1] as CredentialKind, prefix: m[2]!, secret: m[3]! };
}

// Every agent poll hashes its secret (a 304 from the cache is otherwise two map lookups): natively.
export function hashSecret(secret: string): string {
  return sha256Hex(secret);
}

/** Constant-time check of a presented secret against the stored hex sha256. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const actual = sha256Hex(secret);
  // Both lowercase hex of 32 bytes; compared without an early exit.
  if (storedHash.length !== actual.length) return false;
  let diff = 0;
  for (let i = 0; i < actual.length; i++) diff |= actual.charCodeAt(i) ^ storedHash.charCodeAt(i);
  return diff === 0;
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

export interface NewCredential {
  /** Shown to the caller once; never stored. */
  token: string;
  prefix: string;
  secretHash: string;
}

/** A fresh credential; pass the existing prefix to rotate (new secret, same public lookup id). */
export function generateCredential(kind: CredentialKind, prefix: string = bytesToHex(randomBytes(8))): NewCredential {
  const secret = base64url.encode(randomBytes(32));
  return { token: `${kind}_${prefix}_${secret}`, prefix, secretHash: hashSecret(secret) };
}
