// The API's HTTP server on Node (npm start): @hono/node-server on node:http, plus what node:http
// answers by itself before any request reaches the app. A request whose headers exceed
// MAX_HEADER_BYTES (an Authorization header of ~16 KB is enough) never becomes a request: node:http
// reports it as a `clientError`, and its default handler writes a bare `431` without a body and
// destroys the socket at once, which resets the connection while a large header is still arriving
// (the client then sees ECONNRESET instead of the answer). Here every such error is a problem+json
// answer like any other, and the connection is closed gracefully: the client reads the answer.
import { serve } from "@hono/node-server";
import { STATUS_CODES, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { problemBody } from "./app/problem.ts";

/** node:http's default: request line and headers together, in bytes. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** How long a refused client may keep sending before its connection is dropped. */
const DRAIN_MS = 5_000;

export interface ServeOptions {
  fetch: (req: Request) => Response | Promise<Response>;
  port: number;
  hostname?: string;
  onListening?: (info: AddressInfo) => void;
}

export function serveApp(opts: ServeOptions): Server {
  const server = serve(
    { fetch: opts.fetch, port: opts.port, hostname: opts.hostname, serverOptions: { maxHeaderSize: MAX_HEADER_BYTES } },
    opts.onListening,
  ) as Server;
  server.on("clientError", answerClientError);
  return server;
}

/** node:http's parse errors (HPE_*), the request timeouts, and their answers. */
function clientErrorStatus(code: string | undefined): 400 | 408 | 431 {
  if (code === "HPE_HEADER_OVERFLOW") return 431;
  if (code === "ERR_HTTP_REQUEST_TIMEOUT" || code === "HPE_HEADER_TIMEOUT") return 408;
  return 400;
}

const DETAILS: Record<number, string> = {
  400: "The request is not valid HTTP/1.1.",
  408: "The request was not received in time.",
  431: `The request's headers are larger than the server's limit of ${MAX_HEADER_BYTES} bytes (request line and headers together).`,
};

// node:http's parser keeps reading a refused connection and reports each later chunk again.
const answered = new WeakSet<Socket>();

export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (answered.has(socket)) return;
  // The client is gone, or an answer to an earlier request on this connection is being written
  // (another response now would corrupt it): nothing can be said.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  answered.add(socket);
  const status = clientErrorStatus(err.code);
  const body = JSON.stringify(problemBody(status, { detail: DETAILS[status]! }));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // Read and drop whatever the client is still sending until it closes: closing a socket with
  // unread input resets the connection, and the client may lose the answer. Bounded in time.
  socket.on("data", () => {});
  socket.resume();
  socket.setTimeout(DRAIN_MS, () => socket.destroy());
  socket.once("end", () => socket.destroy());
}
