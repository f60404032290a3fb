// The dev signing key: an Ed25519 key generated once into <dataDir>/dev-jwt-key.json so that
// `npm run token` and `npm start` agree, or an HS256 secret from DEV_JWT_SECRET. Production uses
// JWKS_URL instead and never sees a private key.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from "jose";

export type DevKey = { alg: "EdDSA"; kid: string; privateKey: CryptoKey; publicKey: CryptoKey; publicJwk: JWK } | { alg: "HS256"; secret: Uint8Array };

export const DEV_KEY_FILE = "dev-jwt-key.json";

export function devKeyFromSecret(secret: string): DevKey {
  return { alg: "HS256", secret: new TextEncoder().encode(secret) };
}

/** A fresh in-memory Ed25519 key (tests, and the first run before it is saved). */
export async function generateDevKey(): Promise<{ key: DevKey; privateJwk: JWK }> {
  const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const privateJwk = await exportJWK(privateKey);
  privateJwk.kid = await calculateJwkThumbprint(privateJwk);
  privateJwk.alg = "EdDSA";
  return { key: await devKeyFromJwk(privateJwk), privateJwk };
}

export async function devKeyFromJwk(privateJwk: JWK): Promise<DevKey> {
  if (privateJwk.kty !== "OKP" || privateJwk.crv !== "Ed25519" || !privateJwk.d || !privateJwk.x) {
    throw new Error("dev key file must hold an Ed25519 private JWK");
  }
  const publicJwk: JWK = { kty: "OKP", crv: "Ed25519", x: privateJwk.x, alg: "EdDSA", use: "sig" };
  publicJwk.kid = privateJwk.kid ?? (await calculateJwkThumbprint(publicJwk));
  return {
    alg: "EdDSA",
    kid: publicJwk.kid,
    privateKey: (await importJWK(privateJwk, "EdDSA")) as CryptoKey,
    publicKey: (await importJWK(publicJwk, "EdDSA")) as CryptoKey,
    publicJwk,
  };
}

export async function loadOrCreateDevKey(dataDir: string): Promise<DevKey> {
  const file = join(dataDir, DEV_KEY_FILE);
  try {
    return await devKeyFromJwk(JSON.parse(await readFile(file, "utf8")) as JWK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  await mkdir(dataDir, { recursive: true });
  const { privateJwk } = await generateDevKey();
  try {
    // "wx": if `npm start` and `npm run token` race on a new machine, the second one reads the first's key.
    await writeFile(file, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  return devKeyFromJwk(JSON.parse(await readFile(file, "utf8")) as JWK);
}

export interface DevTokenClaims {
  sub: string;
  tenant: string;
  role: string;
  [claim: string]: unknown;
}

export interface DevTokenOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  now?: Date;
}

export async function mintDevToken(key: DevKey, claims: DevTokenClaims, opts: DevTokenOptions): Promise<string> {
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const jwt = new SignJWT(claims)
    .setIssuer(opts.issuer)
    .setAudience(opts.audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + opts.ttlSeconds);
  if (key.alg === "EdDSA") return jwt.setProtectedHeader({ alg: "EdDSA", kid: key.kid, typ: "JWT" }).sign(key.privateKey);
  return jwt.setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(key.secret);
}
