// Builds the static client bundles that local/web.py serves and infra/ deploys to S3 + CloudFront:
//   clients/js/dist/sdk.js        the SDK as one ES module (readable)
//   clients/js/dist/sdk.min.js    the same, minified
//   clients/widget/dist/widget.js the widget (SDK included) as one classic script, minified
//   clients/miniprogram/lib/chat-sdk.js  the SDK as CommonJS for the mini-program example
// `node scripts/build.mjs --sizes` also prints each file's minified and gzipped size.
import { build } from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const sdk = join(here, "..");
const widget = join(sdk, "..", "widget");
const common = { bundle: true, target: ["es2019"], legalComments: "none",
  logLevel: "warning" };

const targets = [
  { entry: join(sdk, "src", "index.js"), out: join(sdk, "dist", "sdk.js"), format: "esm", minify: false },
  { entry: join(sdk, "src", "index.js"), out: join(sdk, "dist", "sdk.min.js"), format: "esm", minify: true },
  { entry: join(widget, "src", "widget.js"), out: join(widget, "dist", "widget.js"), format: "iife", minify: true },
  // the mini-program example requires the SDK as CommonJS (no npm build step in the devtools needed)
  { entry: join(sdk, "src", "index.js"), out: join(sdk, "..", "miniprogram", "lib", "chat-sdk.js"), format: "cjs",
    minify: false },
];

for (const t of targets) {
  if (!existsSync(t.entry)) continue;
  await build({ ...common, entryPoints: [t.entry], outfile: t.out, format: t.format, minify: t.minify,
    sourcemap: t.minify ? "linked" : false });
  if (process.argv.includes("--sizes")) {
    const bytes = readFileSync(t.out);
    const form = t.minify ? "minified" : "not minified";
    console.log(`${t.out.slice(join(sdk, "..").length + 1)} (${t.format}, ${form}): ${bytes.length} B, ` +
      `gzipped ${gzipSync(bytes, { level: 9 }).length} B`);
  }
}
