// The page in headless Chromium: files dropped on it are analyzed by the wasm core in
// a worker, findings are shown as text, the export equals the CLI's report, and no
// request leaves 127.0.0.1 or happens after load.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { caseInputs, datasetsDir, nativeReport, artifacts } from "./support.mjs";
import { launch, openPage, drop, assertNoTraffic } from "./browser.mjs";

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

test("two files dropped at once: findings, fields and risk messages on screen, export equals the CLI", async (t) => {
  const datasets = datasetsDir();
  if (!datasets) return t.skip("no datasets");
  const real = path.join(datasets, "sigmahq_regression_data", "proc_creation_win_msiexec_embedding__4a2a2c3e-209f-4d01-b513-4155a540b469.json");
  const positive = caseInputs("d2_hit")[0];
  const session = await openPage(env);
  const { page } = session;
  const started = Date.now();
  await drop(page, [
    { name: path.basename(real), bytes: readFileSync(real) },
    { name: "d2_hit.log", bytes: readFileSync(positive) },
  ]);
  console.log(`# page analysis of 2 files: ${Date.now() - started} ms`);

  const d1Row = page.locator('tr.finding-row[data-detection-id="e9d05aa2-32f0-411b-930c-5b8ca5c4fcee"][data-modes~=as_published]');
  const d2Row = page.locator('tr.finding-row[data-detection-id="b0fd38c7-f71a-43a2-870e-f3ca06bcdd99"][data-modes~=as_published]');
  assert.equal(await d1Row.count(), 1);
  assert.equal(await d2Row.count(), 1);
  const d1 = page.locator("#finding-detail .finding[data-mode=as_published]");
  const d2 = d1;
  await d2Row.locator("button.open-finding").click();
  assert.equal(await d2.locator(".message").textContent(),
    "An instance of msiexec.exe was identified on endpoint evil.example contacting a remote destination 93.184.216.34");
  assert.equal(await d2.locator(".badge").textContent(), "informational · 20");
  await d1Row.locator("button.open-finding").click();
  assert.equal(await d1.locator(".message").textContent(),
    "An instance of msiexec.exe spawning powershell.exe was identified on endpoint SigmaCatchVm by user SigmaCatchVm\\frack113 running different discovery commands.");
  assert.equal(await d1.locator(".badge").textContent(), "low · 35");
  const row = async (finding, name) => finding.locator("table.row tr", { has: page.locator(`th:text-is("${name}")`) }).locator("td").textContent();
  assert.equal(await row(d1, "process_id"), "11056");
  assert.equal(await row(d1, "parent_process_id"), "11232");
  assert.equal(await row(d1, "dest"), "SigmaCatchVm");
  assert.equal(await row(d1, "original_file_name"), "PowerShell.EXE");
  assert.equal(await row(d1, "firstTime"), "2026-08-11T08:30:09");
  const attack = await d1.locator("table.annotations td").first().textContent();
  assert.equal(attack, "T1218.007 System Binary Proxy Execution: Msiexec — Defense Evasion (TA0005); Stealth from ATT&CK v19");
  assert.match(await d1.locator("table.annotations").textContent(), /MITRE ATT&CK \(v18\)/);
  assert.match(await page.locator("#summary").textContent(), /evtx-dump-json/);
  assert.match(await page.locator("#summary").textContent(), /xml-lines/);
  await page.screenshot({ path: path.join(artifacts, "page-findings.png"), fullPage: true });

  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
  const exported = JSON.parse(readFileSync(await download.path(), "utf8"));
  // The CLI on the same two files under the same names.
  const dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-"));
  copyFileSync(real, path.join(dir, path.basename(real)));
  copyFileSync(positive, path.join(dir, "d2_hit.log"));
  const native = nativeReport(dir, [path.basename(real), "d2_hit.log"]);
  rmSync(dir, { recursive: true });
  assert.deepEqual(exported, native, "the page's export is the CLI's report");

  await assertNoTraffic(session);
  await session.context.close();
});

test("event text is rendered as text: an HTML command line shows literally and runs nothing", async () => {
  const session = await openPage(env);
  const { page } = session;
  await drop(page, [{ name: "html.log", bytes: readFileSync(caseInputs("d1_html_in_command_line")[0]) }]);
  const row = page.locator("tr.finding-row[data-modes~=as_published]");
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /→ <img src=x onerror=alert\(1\)>|<b>CORP<\/b>/, "the row shows event text as text");
  await row.locator("button.open-finding").click();
  const finding = page.locator("#finding-detail .finding[data-mode=as_published]");
  await finding.locator(".event summary").first().click();
  const cell = finding.locator("table.row tr", { has: page.locator('th:text-is("process")') }).locator("td");
  assert.equal(await cell.textContent(), "<img src=x onerror=alert(1)>");
  assert.equal(await page.locator("#findings img, #summary img").count(), 0, "no element was created from event text");
  assert.equal(await page.locator("#findings b").count(), 0);
  assert.match(await finding.locator(".message").textContent(), /by user <b>CORP<\/b>\\eve running/);
  await page.screenshot({ path: path.join(artifacts, "page-html-as-text.png"), fullPage: true });
  await assertNoTraffic(session);
  await session.context.close();
});

test("a bad file is reported by name and position beside the good one", async () => {
  const session = await openPage(env);
  const { page } = session;
  await drop(page, [
    { name: "truncated.log", bytes: readFileSync(caseInputs("bad_truncated_xml")[0]) },
    { name: "garbage.bin", bytes: Buffer.from([0, 1, 2, 3, 255, 254, 7, 8, 9]) },
  ]);
  assert.equal(await page.locator("tr.finding-row[data-modes~=as_published]").count(), 2);
  assert.match(await page.locator("#headline .unreadable").textContent(), /garbage\.bin: not a Sysmon log/, "the file not read is named at the top");
  await page.locator("details.skipped summary").click();
  const problems = await page.locator("details.skipped").textContent();
  assert.match(problems, /truncated\.log/);
  assert.match(problems, /line 2 truncated event/);
  assert.match(problems, /garbage\.bin.*binary data: 00 01 02 03/s);
  await assertNoTraffic(session);
  await session.context.close();
});

test("the largest shared dataset this build reads is analyzed in the page", async (t) => {
  const datasets = datasetsDir();
  if (!datasets) return t.skip("no datasets");
  const file = path.join(datasets, "otrf_security_datasets", "psh_mavinject_dll_notepad_2020-10-2121410529.json");
  const bytes = readFileSync(file);
  const session = await openPage(env);
  const { page } = session;
  const started = Date.now();
  await drop(page, [{ name: path.basename(file), bytes }]);
  const elapsed = Date.now() - started;
  console.log(`# page: ${path.basename(file)} (${bytes.length} bytes) analyzed in ${elapsed} ms, drop to rendered report`);
  const summary = await page.locator("#summary").textContent();
  assert.match(summary, /EID 1: 2, EID 3: 2, EID 7: 100/);
  assert.equal(await page.locator("tr.finding-row").count(), 0, "in either reading");
  assert.match(await page.locator("#findings .no-match").textContent(), /^No findings\.$/);
  await assertNoTraffic(session);
  await session.context.close();
});

test("an archive holding two shapes shows both files' ingest reports", async () => {
  const session = await openPage(env);
  const { page } = session;
  await drop(page, [
    { name: "logs.tar.gz", bytes: readFileSync(caseInputs("archive_tar_gz_two_shapes")[0]) },
    { name: "no-ofn.log", bytes: readFileSync(caseInputs("d1_missing_values_are_null")[0]) },
  ]);
  const rows = page.locator("table.files tbody tr");
  assert.equal(await rows.count(), 3);
  const cells = async (i) => (await rows.nth(i).locator("td").allTextContents()).slice(0, 4);
  assert.deepEqual(await cells(0), ["logs.tar.gz/logs/nxlog.json", "nxlog (in gzip/tar)", "utf-8", "EID 1: 1"]);
  assert.deepEqual(await cells(1), ["logs.tar.gz/logs/winlogbeat.json", "winlogbeat (in gzip/tar)", "utf-8", "EID 1: 1"]);
  await page.locator("details.missing summary").click();
  assert.match(await page.locator("details.missing").textContent(),
    /no-ofn\.log.*no OriginalFileName in any process creation \(EID 1\) event: the HTTP detection's original_file_name=msiexec\.exe condition cannot fire/s);
  assert.equal(await page.locator("tr.finding-row[data-modes~=as_published]").count(), 2);
  await page.screenshot({ path: path.join(artifacts, "page-archive.png"), fullPage: true });
  await assertNoTraffic(session);
  await session.context.close();
});

test("an EVTX file is read in the page, chunk by chunk", async (t) => {
  const datasets = datasetsDir();
  if (!datasets) return t.skip("no datasets");
  const session = await openPage(env);
  const { page } = session;
  const evtx = path.join(datasets, "dfirartifactmuseum", "APTSimulatorVM_Win10_Microsoft-Windows-Sysmon-Operational.evtx");
  const positive = path.join(datasets, "sigmahq_regression_data", "proc_creation_win_msiexec_embedding__4a2a2c3e-209f-4d01-b513-4155a540b469.evtx");
  await drop(page, [{ name: "apt.evtx", bytes: readFileSync(evtx) }, { name: "positive.evtx", bytes: readFileSync(positive) }]);
  const cells = await page.locator("table.files tbody tr").first().locator("td").allTextContents();
  assert.deepEqual(cells.slice(0, 4), ["apt.evtx", "evtx", "utf-16le", "EID 1: 681, EID 4: 1, EID 5: 719, EID 16: 1"]);
  const row = page.locator("tr.finding-row[data-modes~=as_published]");
  assert.equal(await row.count(), 1);
  await row.locator("button.open-finding").click();
  assert.match(await page.locator("#finding-detail .finding[data-mode=as_published] .message").textContent(), /msiexec\.exe spawning powershell\.exe .* SigmaCatchVm/);
  await assertNoTraffic(session);
  await session.context.close();
});
