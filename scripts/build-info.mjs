/** Writes www/pkg/build.js, a classic script read by the page (its footer) and by sw.js
 * (what to keep for offline use): the version from Cargo.toml, the build id (the first
 * 16 hex digits of a SHA-256 over every file of www/ with its path) and the page's files. */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const www = path.join(root, "www");
const OUT = "pkg/build.js";

/** Paths under www/ with "/" separators, in byte order, without this script's output. */
function pageFiles() {
  return readdirSync(www, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(www, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .filter((file) => file !== OUT)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

const version = /^\[package\][^[]*?^version = "([^"]+)"/ms.exec(readFileSync(path.join(root, "Cargo.toml"), "utf8"))?.[1];
if (!version) throw new Error("no package version in Cargo.toml");
const files = pageFiles();
const hash = createHash("sha256");
for (const file of files) hash.update(`${file}\0${createHash("sha256").update(readFileSync(path.join(www, file))).digest("hex")}\n`);
const build = { version, id: hash.digest("hex").slice(0, 16), files: [...files.filter((file) => file !== "sw.js"), OUT] };
writeFileSync(path.join(www, OUT), `// Written by scripts/build-info.mjs: this build of the page.\nself.sysmonLensBuild = ${JSON.stringify(build)};\n`);
console.log(`build ${build.id} of Sysmon Lens ${version}: ${files.length} files`);
