// A short digest of migrations/ (SQL + journal): names the cached, already-migrated templates
// so a schema change builds new ones instead of reusing stale ones.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));

export function migrationsHash(): string {
  const h = createHash("sha256");
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const f of [...files, "meta/_journal.json"]) {
    h.update(f)
      .update("\0")
      .update(readFileSync(MIGRATIONS_DIR + f))
      .update("\0");
  }
  return h.digest("hex").slice(0, 12);
}
