// For tests of a data-changing migration: a copy of migrations/ whose journal stops before `tag`,
// so a database can be migrated to just before it, given rows the old way, then migrated on.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's migrations/ folder: migrate the rest of the way with it. */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../../migrations", import.meta.url));

/** The copy's folder (in a new temp dir; the caller may remove it). Throws for an unknown or first tag. */
export function migrationsBefore(tag: string): string {
  const dir = join(mkdtempSync(join(tmpdir(), "gatehouse-migrations-")), "before");
  cpSync(MIGRATIONS_FOLDER, dir, { recursive: true });
  const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  if (at < 1) throw new Error(`migrationsBefore: ${tag} is not a migration after the first`);
  writeFileSync(join(dir, "meta/_journal.json"), JSON.stringify({ ...journal, entries: journal.entries.slice(0, at) }));
  return dir;
}
