// A generated log of several hundred MB through the page: every planted scenario is
// found by both readings of both detections, near misses stay silent, and the tab's
// private memory stays bounded (it would not, were the file held whole).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { cli, serve } from "./support.mjs";
import { measurePage } from "./measure.mjs";

const SIZE = "400M";
const MEMORY_BOUND_MIB = 256;
const SPAWN = "e9d05aa2-32f0-411b-930c-5b8ca5c4fcee";
const HTTP = "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99";

test(`a generated ${SIZE} log: planted findings exact, tab memory under ${MEMORY_BOUND_MIB} MiB`, { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-large-"));
  const server = await serve();
  try {
    const log = path.join(dir, "generated.xml");
    const manifestPath = path.join(dir, "manifest.json");
    execFileSync(cli, ["generate", "--shape", "xml", "--size", SIZE, "--seed", "5", "--out", log, "--manifest", manifestPath]);
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
    const run = await measurePage(server.origin, log);
    const mb = run.bytes / 1e6;
    console.log(`# ${mb.toFixed(0)} MB in ${run.seconds.toFixed(2)} s = ${(mb / run.seconds).toFixed(0)} MB/s; tab peak ${run.peakPrivateMiB.toFixed(0)} MiB private, wasm memory ${run.wasmMiB.toFixed(0)} MiB`);

    const pids = (kind) => manifest.planted.filter((p) => p.kind === kind).map((p) => p.pid).sort((a, b) => a - b);
    const found = (detection, mode, field) => run.report.findings
      .filter((f) => f.detection_id === detection && f.mode === mode)
      .map((f) => Number(f.row[field]))
      .sort((a, b) => a - b);
    assert.ok(pids("spawn-discovery").length >= 5, "several scenarios of each kind are planted");
    for (const mode of ["as_published", "hardened"]) {
      assert.deepEqual(found(SPAWN, mode, "parent_process_id"), pids("spawn-discovery"), mode);
      assert.deepEqual(found(HTTP, mode, "process_id"), pids("http-download"), mode);
    }
    assert.equal(run.report.findings.length, 4 * pids("spawn-discovery").length, "near misses stay silent");
    const counted = run.report.files[0].sysmon_events;
    assert.deepEqual(counted, Object.fromEntries(Object.entries(manifest.events_by_id).map(([id, n]) => [id, n])));
    assert.ok(run.peakPrivateMiB < MEMORY_BOUND_MIB, `tab peak ${run.peakPrivateMiB.toFixed(0)} MiB`);
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
