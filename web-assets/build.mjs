// Bundle src/editor.js with CodeMirror into ONE minified file in the Python package, and write the licences of
// every npm package that went into it beside it. Run: npm ci && npm run build (the built files are committed).
import { build } from "esbuild";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "sendwell", "web", "ui", "static");

const result = await build({
  entryPoints: [join(here, "src", "editor.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none", // the licences go to editor.LICENSE.txt instead
  metafile: true,
  outfile: join(out, "editor.js"),
});

const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.set(m[1], join(here, "node_modules", m[1]));
}
const parts = ["Licences of the npm packages bundled into editor.js (built by web-assets/build.mjs).\n"];
for (const [name, dir] of [...packages].sort()) {
  const meta = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const file = ["LICENSE", "LICENSE.md", "LICENSE.txt", "license"].map((f) => join(dir, f)).find(existsSync);
  if (!file) throw new Error(`${name}: no licence file`);
  parts.push(`\n==== ${name}@${meta.version} (${meta.license}) ====\n\n${readFileSync(file, "utf8").trim()}\n`);
}
writeFileSync(join(out, "editor.LICENSE.txt"), parts.join(""));
console.log(`editor.js: ${packages.size} packages, licences in editor.LICENSE.txt`);
