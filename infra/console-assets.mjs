// wrangler's [build] step for the Worker's assets: copies the console (src/console/: index.html,
// its modules and stylesheet) and the vendor files it loads (src/console/vendor.json: the browser
// builds of preact, htm and Scalar, from node_modules) into .wrangler/console-assets/, laid out as
// the URLs Node serves them at (src/console/serve.ts). A copy, not a build: the files are the same
// bytes on both runtimes. Plain JS so any node runs it.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const src = `${root}src/console/`;
const out = `${root}.wrangler/console-assets/`;
const CONSOLE_FILE = /^[a-z0-9-]+\.(js|css|html)$/; // as serve.ts

rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}console/vendor`, { recursive: true });
copyFileSync(`${src}index.html`, `${out}index.html`);
for (const f of readdirSync(src)) if (CONSOLE_FILE.test(f) && f !== "index.html") copyFileSync(src + f, `${out}console/${f}`);
const vendor = JSON.parse(readFileSync(`${src}vendor.json`, "utf8"));
for (const [name, rel] of Object.entries(vendor)) copyFileSync(`${root}node_modules/${rel}`, `${out}console/vendor/${name}`);
