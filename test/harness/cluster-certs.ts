// Key material for the test cluster, made with openssl: the service-account signing key the API
// server needs for TokenRequest, and a throwaway CA with a server certificate for 127.0.0.1 that
// Gatekeeper's admission webhook serves.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runOk } from "./cluster-process.ts";

/** An RSA private key (PKCS#8 PEM) for --service-account-key-file and --service-account-signing-key-file. */
export async function makeServiceAccountKey(dir: string): Promise<string> {
  const path = join(dir, "sa.key");
  await runOk("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path]);
  return path;
}

/**
 * A CA and a server certificate (SAN IP:127.0.0.1) signed by it, written as `tls.crt`/`tls.key`
 * in `<dir>/webhook-certs` (the names Gatekeeper reads from --cert-dir). Returns the dir and the
 * CA's PEM (for the webhook configuration's caBundle).
 */
export async function makeWebhookCerts(dir: string): Promise<{ certDir: string; caPem: string }> {
  const certDir = join(dir, "webhook-certs");
  const work = join(dir, "webhook-ca");
  mkdirSync(certDir, { recursive: true });
  mkdirSync(work, { recursive: true });
  const caKey = join(work, "ca.key");
  const caCrt = join(work, "ca.crt");
  await runOk("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    caKey,
    "-out",
    caCrt,
    "-days",
    "2",
    "-subj",
    "/CN=gatehouse-test-webhook-ca",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const csr = join(work, "tls.csr");
  await runOk("openssl", ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", join(certDir, "tls.key"), "-out", csr, "-subj", "/CN=127.0.0.1"]);
  const ext = join(work, "server.ext");
  writeFileSync(
    ext,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1",
      "",
    ].join("\n"),
  );
  await runOk("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    caCrt,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-out",
    join(certDir, "tls.crt"),
    "-days",
    "2",
    "-extfile",
    ext,
  ]);
  const caPem = readFileSync(caCrt, "utf8");
  writeFileSync(join(certDir, "ca.crt"), caPem);
  return { certDir, caPem };
}

/**
 * A kubeconfig for one bearer token, as JSON (which is YAML: kubectl and @kubernetes/client-node
 * both read it). An http:// server (a local proxy) needs insecure-skip-tls-verify for client-node.
 */
export function kubeconfigJson(server: string, caData: string, token: string): string {
  const cluster: Record<string, unknown> = { server };
  if (server.startsWith("https:")) cluster["certificate-authority-data"] = caData;
  else cluster["insecure-skip-tls-verify"] = true;
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "test", cluster }],
    users: [{ name: "user", user: { token } }],
    contexts: [{ name: "test", context: { cluster: "test", user: "user" } }],
    "current-context": "test",
    preferences: {},
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}
