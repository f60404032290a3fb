// Node only: point the Neon serverless driver at a plain PostgreSQL through a WebSocket→TCP
// proxy (the harness's test/harness/wsproxy.ts, or any Neon-compatible wsproxy). Neon itself
// terminates TLS at its proxy; a local proxy speaks plain ws and plain Postgres.
import { neonConfig } from "@neondatabase/serverless";
import ws from "ws";

/** proxy: "host:port" of the WebSocket proxy, e.g. "127.0.0.1:5480". Process-wide setting. */
export function useLocalWsProxy(proxy: string): void {
  neonConfig.webSocketConstructor = ws as unknown as typeof neonConfig.webSocketConstructor;
  neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  // Pipelining assumes Neon's proxy (TLS + cleartext password in the first flight); a plain
  // server negotiates SCRAM over an unencrypted stream instead.
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;
}
