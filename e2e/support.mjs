// Helpers shared by the end-to-end tests: paths, a static server on a free port,
// the browser, and the native CLI.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const www = path.join(root, "www");
export const casesDir = path.join(root, "tests", "cases");
export const artifacts = path.join(root, "e2e", "artifacts");
export const cli = path.join(process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, "target"), "release", "sysmon-lens");

/** The shared datasets, or null (with a message) when this clone has none beside it. */
export function datasetsDir() {
  const dir = process.env.SYSMON_LENS_DATASETS ?? path.resolve(root, "..", "shared", "datasets");
  if (existsSync(path.join(dir, "SOURCES.md"))) return dir;
  if (process.env.SYSMON_LENS_REQUIRE_DATASETS) throw new Error(`datasets not found at ${dir} (SYSMON_LENS_REQUIRE_DATASETS is set)`);
  console.log(`# SKIPPED: datasets not found at ${dir}`);
  return null;
}

/** Serves `dir` (www/, as the README does) with Python's http.server on `port` (0: a free one). */
export async function serve(dir = www, port = 0) {
  const server = spawn("python3", ["-u", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", dir], { stdio: ["ignore", "pipe", "pipe"] });
  const bound = await new Promise((resolve, reject) => {
    let seen = "";
    server.stdout.on("data", (data) => {
      seen += data;
      const match = /port (\d+)/.exec(seen);
      if (match) resolve(Number(match[1]));
    });
    server.on("exit", (code) => reject(new Error(`http.server exited with ${code}`)));
  });
  return { origin: `http://127.0.0.1:${bound}`, port: bound, stop: () => new Promise((resolve) => { server.once("exit", resolve); server.kill(); }) };
}

export const chromiumArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
];

/** The core's detections as the page's worker gives them to settings.js: `[{ id, name, output_fields }]`, from the wasm. */
export async function coreDetections() {
  const { default: init, detectionList } = await import("../www/pkg/sysmon_lens.js");
  await init({ module_or_path: readFileSync(path.join(www, "pkg", "sysmon_lens_bg.wasm")) });
  return JSON.parse(detectionList());
}

/** Input files of a case directory (everything but expected.json), in name order. */
export function caseInputs(name) {
  const dir = path.join(casesDir, name);
  return readdirSync(dir).filter((f) => f !== "expected.json").sort().map((f) => path.join(dir, f));
}

export function caseNames() {
  return readdirSync(casesDir).filter((f) => statSync(path.join(casesDir, f)).isDirectory()).sort();
}

/** The native CLI's JSON report for files given relative to `cwd`. */
export function nativeReport(cwd, relativePaths) {
  try {
    return JSON.parse(execFileSync(cli, ["scan", "--format", "json", ...relativePaths], { cwd, stdio: ["ignore", "pipe", "ignore"], maxBuffer: 1 << 28 }));
  } catch (err) {
    if (err.status === 1 || err.status === 2) return JSON.parse(err.stdout); // 2: a named file gave nothing
    throw err;
  }
}
