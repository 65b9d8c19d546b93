// Builds the hall screen into dist/: one JS bundle and one stylesheet named by their content
// hash (served with a year's cache), and index.html pointing at them (always revalidated).
import * as esbuild from "esbuild";
import { readFileSync, writeFileSync, rmSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist");
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, "src/main.js"), style: join(here, "src/style.css") },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "iife",
  target: ["chrome100", "firefox100", "safari15", "edge100"],
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

const names = {};
for (const [file, meta] of Object.entries(result.metafile.outputs)) {
  if (meta.entryPoint) names[basename(meta.entryPoint)] = "assets/" + basename(file);
}
if (!names["main.js"] || !names["style.css"]) throw new Error("build: missing outputs");
const html = readFileSync(join(here, "src/index.html"), "utf8")
  .replace("%STYLE%", names["style.css"])
  .replace("%SCRIPT%", names["main.js"]);
writeFileSync(join(out, "index.html"), html);
console.log(`web-build: ${out}/index.html, ${names["main.js"]}, ${names["style.css"]}`);
