// drizzle-kit: `npm run db:generate` diffs src/db/schema.ts against migrations/ and writes SQL.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
