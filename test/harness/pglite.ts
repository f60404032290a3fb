// Fresh PGlite databases for tests, fast: initdb + migrations cost ~7 s here, so that is done
// once (per machine, per schema) and dumped to a tarball in the OS temp dir; each test database
// is then an in-memory PGlite loaded from it (~1 s), nothing left on disk afterwards.
import { PGlite } from "@electric-sql/pglite";
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromPglite, migrate, type Database } from "../../src/db/client.ts";
import { migrationsHash } from "./migrations-hash.ts";

let template: Promise<Blob> | undefined;

function pgliteVersion(): string {
  // Read from node_modules directly: vitest's module runner has no import.meta.resolve.
  const pkg = fileURLToPath(new URL("../../node_modules/@electric-sql/pglite/package.json", import.meta.url));
  return (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version;
}

export function templatePath(): string {
  return join(tmpdir(), `gatehouse-pglite-${pgliteVersion()}-${migrationsHash()}.tar`);
}

/** The migrated template as a data-dir tarball; built on first use and cached on disk. */
export function pgliteTemplate(): Promise<Blob> {
  template ??= (async () => {
    const path = templatePath();
    if (!existsSync(path)) {
      const pg = new PGlite();
      const db = await fromPglite(pg);
      await migrate(db);
      const dump = await pg.dumpDataDir("none");
      // Write then rename: concurrent workers may both build; neither sees a partial file.
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, new Uint8Array(await dump.arrayBuffer()));
      renameSync(tmp, path);
      await db.close();
      // Templates of older schemas or PGlite versions are dead weight (~40 MB each).
      for (const f of readdirSync(tmpdir())) {
        if (/^gatehouse-pglite-.*\.tar$/.test(f) && join(tmpdir(), f) !== path) {
          rmSync(join(tmpdir(), f), { force: true });
        }
      }
    }
    return new Blob([readFileSync(path)]);
  })();
  template.catch(() => (template = undefined));
  return template;
}

/** A new, empty, migrated in-memory database. */
export async function openPgliteFromTemplate(): Promise<Database> {
  const pg = new PGlite({ loadDataDir: await pgliteTemplate() });
  const db = await fromPglite(pg);
  await migrate(db); // a no-op against the template; keeps a hand-edited cache honest
  return db;
}
