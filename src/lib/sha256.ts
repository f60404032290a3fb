// sha256 of a string as lowercase hex, natively where the runtime can: noble's sha256 in
// JavaScript was half of a poll's CPU in a profile under bench:api (the secret, hashed every poll)
// and a tenth of the server's under bench:fleet (status reports, renderings). Node's one-shot
// crypto.hash (Node >= 21.7) is native; Workers' node:crypto may lack it: noble there.
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import * as nodeCrypto from "node:crypto";

export const sha256Hex: (s: string) => string =
  typeof nodeCrypto.hash === "function" ? (s) => nodeCrypto.hash("sha256", s, "hex") : (s) => bytesToHex(sha256(utf8ToBytes(s)));
