// Build the real tools before any test file runs, so a cold machine pays once, visibly.
import { toolPath } from "./tools.ts";

export default function setup() {
  toolPath("gator");
}
