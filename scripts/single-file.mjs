/** Writes dist/sysmon-lens.html (or the path given): www/index.html with everything it loads
 * inlined, so that it works opened from disk, where browsers refuse module scripts and
 * fetches. Each stylesheet becomes a <style>, each classic script a <script>, each module
 * script one <script type="module"> bundled by esbuild with its imports; the worker
 * (worker.js, bundled as a classic script) goes in a <script type="text/plain"
 * id="worker-source"> that app.js starts from a Blob URL, with the wasm core as base64
 * compiled from those bytes (wasm-core.js is replaced). The page's Content-Security-Policy becomes the same
 * policy for inline content: 'self' turns into the SHA-256 of each inline script and
 * style, blob: for workers, nothing for the rest. Same inputs, same bytes: nothing of the
 * time, the machine or the path goes in. */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const www = path.join(root, "www");
const esbuild = createRequire(path.join(root, "e2e", "package.json"))("esbuild");
const out = path.resolve(process.argv[2] ?? path.join(root, "dist", "sysmon-lens.html"));

/** The bundle of `entry` (a path under www/): one ES module, or with `core` the worker as a
 * classic script (a module worker from a Blob URL fails from file://, where the page's origin
 * is opaque) with wasm-core.js replaced by `core`. */
async function bundle(entry, core) {
  const inlineCore = {
    name: "inline-wasm-core",
    setup(build) {
      build.onResolve({ filter: /\/wasm-core\.js$/ }, () => (core ? { path: "wasm-core", namespace: "inline" } : undefined));
      build.onLoad({ filter: /.*/, namespace: "inline" }, () => ({ contents: core, loader: "js" }));
    },
  };
  const result = await esbuild.build({
    entryPoints: [path.join(www, entry)], absWorkingDir: root, bundle: true, write: false,
    ...(core ? { format: "iife", define: { "import.meta.url": "self.location.href" } } : { format: "esm" }),
    minifyWhitespace: true, minifySyntax: true, legalComments: "none", charset: "utf8", plugins: [inlineCore], logLevel: "warning",
  });
  return result.outputFiles[0].text;
}

/** wasm-core.js for the single file: the core's bytes, base64, compiled in the worker. */
function inlineCoreModule() {
  const base64 = readFileSync(path.join(www, "pkg", "sysmon_lens_bg.wasm")).toString("base64");
  return `const CORE = "${base64}";
export function compileCore() {
  const text = atob(CORE);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
  return WebAssembly.compile(bytes);
}`;
}

/** `text` to go inside a <script> or <style> element, refused if it could end it early. */
function inlineText(text, tag) {
  if (new RegExp(`</${tag}|<!--`, "i").test(text)) throw new Error(`cannot inline: the text holds </${tag} or <!--`);
  return text.replace(/\s+$/, "");
}

const sha256 = (text) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
const attribute = (tag, name) => new RegExp(`\\b${name}="([^"]*)"`).exec(tag)?.[1];

// The page's comments speak of its files; the single file has none.
let html = readFileSync(path.join(www, "index.html"), "utf8").replace(/[ \t]*<!--[^]*?-->\n?/g, "");
const scriptHashes = [];
const styleHashes = [];
const pieces = [];
for (const match of html.matchAll(/<link rel="stylesheet" href="([^"]+)">|<script\b([^>]*)\bsrc="([^"]+)"([^>]*)><\/script>/g)) {
  const [tag, stylesheet, , script] = match;
  let replacement;
  if (stylesheet) {
    const css = inlineText(readFileSync(path.join(www, stylesheet), "utf8"), "style");
    styleHashes.push(sha256(css));
    replacement = `<style>${css}</style>`;
  } else {
    const module = attribute(tag, "type") === "module";
    const js = inlineText(module ? await bundle(script) : readFileSync(path.join(www, script), "utf8"), "script");
    scriptHashes.push(sha256(js));
    replacement = `<script${module ? ' type="module"' : ""}>${js}</script>`;
  }
  pieces.push({ tag, replacement });
}
for (const { tag, replacement } of pieces) html = html.replace(tag, () => replacement);

const worker = inlineText(await bundle("worker.js", inlineCoreModule()), "script");
// Before the page's own </body>, the last one: the inlined scripts may hold that text too.
const bodyEnd = html.lastIndexOf("</body>");
html = `${html.slice(0, bodyEnd)}<script type="text/plain" id="worker-source">${worker}</script>\n${html.slice(bodyEnd)}`;

/** The hosted policy with 'self' made inline: hashes for scripts and styles, blob: for workers. */
const inlined = { "script-src": scriptHashes, "style-src": styleHashes, "worker-src": ["blob:"] };
html = html.replace(/(<meta http-equiv="Content-Security-Policy" content=")([^"]+)"/, (_, start, policy) => start + policy.split(";").map((directive) => {
  const [name, ...sources] = directive.trim().split(/\s+/);
  const kept = sources.flatMap((source) => (source === "'self'" ? inlined[name] ?? [] : [source]));
  return `${name} ${kept.length ? kept.join(" ") : "'none'"}`;
}).join("; ") + '"');

mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, html);
console.log(`wrote ${path.relative(root, out)} (${Buffer.byteLength(html)} bytes)`);
