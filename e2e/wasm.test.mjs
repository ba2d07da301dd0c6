// The wasm build (the very www/pkg the page loads) gives the same report as the
// native CLI, on every case and every readable shared dataset.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import init, { Analyzer } from "../www/pkg/sysmon_lens.js";
import { www, casesDir, caseNames, caseInputs, datasetsDir, nativeReport } from "./support.mjs";

await init({ module_or_path: readFileSync(path.join(www, "pkg", "sysmon_lens_bg.wasm")) });

const SLICE = 64 << 10;

/** Feeds files to the wasm Analyzer in slices, naming them as given. */
function wasmReport(cwd, relativePaths) {
  const analyzer = new Analyzer();
  for (const name of relativePaths) {
    const bytes = readFileSync(path.join(cwd, name));
    analyzer.beginFile(name);
    for (let offset = 0; offset < bytes.length; offset += SLICE) analyzer.feed(bytes.subarray(offset, offset + SLICE));
    analyzer.endFile();
  }
  return JSON.parse(analyzer.finish());
}

test("wasm and native reports are identical on every case", () => {
  const names = caseNames();
  assert.ok(names.length >= 20);
  for (const name of names) {
    const dir = path.join(casesDir, name);
    const files = caseInputs(name).map((p) => path.basename(p));
    assert.deepEqual(wasmReport(dir, files), nativeReport(dir, files), name);
  }
});

test("wasm and native reports are identical on the shared datasets", (t) => {
  const dir = datasetsDir();
  if (!dir) return t.skip("no datasets");
  const files = [
    "splunk_attack_data/certutil_exe_certificate_extraction.raw",
    "otrf_security_datasets/cmd_bitsadmin_download_psh_script_2020-10-2302365189.json",
    "otrf_security_datasets/psh_mavinject_dll_notepad_2020-10-2121410529.json",
    "sbousseaden_evtx_attack_samples/Exec_sysmon_meterpreter_reversetcp_msipackage.evtx_dump.derived.xml",
    "jymcheong_sysmonresources/schtasksPersistence.utf16le.xml",
    "wagga40_zircolite/xml_events_sample.xml",
    "sigmahq_regression_data/proc_creation_win_msiexec_embedding__4a2a2c3e-209f-4d01-b513-4155a540b469.json",
    "dfirartifactmuseum/APTSimulatorVM_Win10_Microsoft-Windows-Sysmon-Operational.evtx",
    "otrf_security_datasets/empire_enable_rdp.tar.gz",
    "otrf_security_datasets/psh_mavinject_dll_notepad.zip",
    "endgameinc_eqllib/sysmon-atomic-red-team.json.gz",
    "splunk_attack_data/T1027_atomic_red_team_attack_data.tar.gz",
    "elastic_beats/ingest__sysmon-9.01.golden.excerpt.derived.json",
    "wagga40_zircolite/winlogbeat_sysmon_sample.json",
  ];
  const native = nativeReport(dir, files);
  assert.deepEqual(wasmReport(dir, files), native);
  assert.equal(native.findings.length, 2, "the one real positive, in each reading");
});
