// Page benchmark: each file given on the command line goes through the page in a
// fresh headless Chromium (see measure.mjs), and through the native CLI for the
// wasm/native ratio. Prints MB/s, events/s and the tab's peak memory, each with its
// goal; given two files or more, the memory held per process creation. Run after
// scripts/build.sh (scripts/bench.sh does both and generates the files):
//   node e2e/bench.mjs FILE...
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { serve, cli } from "./support.mjs";
import { measurePage } from "./measure.mjs";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node e2e/bench.mjs FILE...");
  process.exit(2);
}

/** The CLI's own timing line for the same file: seconds and MB/s. */
function native(file) {
  let stderr = "";
  try {
    execFileSync(cli, ["scan", "--timing", "--format", "json", file], { stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 30 });
  } catch (err) {
    stderr = String(err.stderr ?? ""); // exit status 1 means findings
  }
  const match = /in ([\d.]+) s: (\d+) MB\/s/.exec(stderr);
  if (!match) throw new Error(`no timing from the CLI: ${stderr}`);
  return { seconds: Number(match[1]), mbps: Number(match[2]) };
}

/** For a generated file: whether the page found exactly the planted findings. */
function plantedCheck(file, report) {
  const manifestPath = `${file}.manifest.json`;
  if (!existsSync(manifestPath)) return "";
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  const key = (kind) => manifest.planted.filter((p) => p.kind === kind).map((p) => p.pid).sort((a, b) => a - b).join();
  const found = (id, mode, field) => report.findings.filter((f) => f.detection_id === id && f.mode === mode)
    .map((f) => Number(f.row[field])).sort((a, b) => a - b).join();
  const exact = ["as_published", "hardened"].every((mode) =>
    found("e9d05aa2-32f0-411b-930c-5b8ca5c4fcee", mode, "parent_process_id") === key("spawn-discovery")
    && found("b0fd38c7-f71a-43a2-870e-f3ca06bcdd99", mode, "process_id") === key("http-download"));
  const planted = manifest.planted.length;
  return exact && report.findings.length === planted
    ? `; all ${planted / 2} planted positives found by both readings, no near miss`
    : "; PLANTED FINDINGS DIFFER";
}

/** Bytes of memory held per process creation between the runs with the fewest and the most,
 * and what 10 M process creations would take, from that slope. */
function memoryPerProcess(runs) {
  const processes = (run) => run.report.summary.sysmon_events["1"] ?? 0;
  const sorted = [...runs].sort((a, b) => processes(a) - processes(b));
  const [small, large] = [sorted[0], sorted.at(-1)];
  const more = processes(large) - processes(small);
  if (more <= 0) return;
  const slope = (mib) => (mib(large) - mib(small)) * (1 << 20) / more;
  const at10M = (mib) => (mib(small) * (1 << 20) + slope(mib) * (1e7 - processes(small))) / 2 ** 30;
  const privateMiB = (run) => run.peakPrivateMiB;
  const wasmMiB = (run) => run.wasmMiB;
  console.log(
    `page memory: ${slope(privateMiB).toFixed(0)} bytes of the tab's private memory per process creation `
    + `(${processes(small)} → ${processes(large)} process creations; goal ≤ 300), ${slope(wasmMiB).toFixed(0)} of wasm memory; `
    + `10 M process creations ≈ ${at10M(privateMiB).toFixed(2)} GiB private, ${at10M(wasmMiB).toFixed(2)} GiB of wasm memory (wasm32 holds at most 4 GiB)`,
  );
}

const server = await serve();
try {
  const runs = [];
  for (const file of files) {
    const run = await measurePage(server.origin, file);
    runs.push(run);
    const mb = run.bytes / 1e6;
    const events = Object.values(run.report.summary.sysmon_events).reduce((a, b) => a + b, 0) + run.report.summary.other_events;
    const cliRun = native(file);
    console.log(
      `${file}: ${mb.toFixed(1)} MB, ${events} events, ${run.report.findings.length} findings — page ${run.seconds.toFixed(2)} s = `
      + `${(mb / run.seconds).toFixed(0)} MB/s (goal ≥ 1000), ${(events / run.seconds).toFixed(0)} events/s; tab peak ${run.peakPrivateMiB.toFixed(0)} MiB private, `
      + `${run.peakResidentMiB.toFixed(0)} MiB resident with shared libraries (wasm memory ${run.wasmMiB.toFixed(0)} MiB); `
      + `native ${cliRun.seconds.toFixed(2)} s = ${cliRun.mbps} MB/s; wasm/native ${(cliRun.seconds / run.seconds).toFixed(2)} (goal ≥ 0.7)`
      + plantedCheck(file, run.report),
    );
  }
  if (runs.length > 1) memoryPerProcess(runs);
} finally {
  server.stop();
}
