// The analyst's view in headless Chromium, on the built-in demo sample: both readings
// in one table with their differences explained, the process tree, suppression rules,
// the editable discovery list, risk totals with a threshold, and every export.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { caseInputs, cli, nativeReport, artifacts } from "./support.mjs";
import { launch, openPage, drop, assertNoTraffic } from "./browser.mjs";

const D1 = "e9d05aa2-32f0-411b-930c-5b8ca5c4fcee";
const D2 = "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99";

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

async function openDemo() {
  const session = await openPage(env);
  await session.page.click("#demo");
  await session.page.waitForSelector("body[data-state=done]");
  return session;
}

/** The table's rows of a detection that a reading finds (a row both readings find counts for each). */
const findingsIn = (page, detection, mode) => page.locator(`tr.finding-row[data-detection-id="${detection}"][data-modes~=${mode}]`);
/** Opens a row and gives the open finding of `mode`. */
async function openFinding(page, row, mode) {
  await row.locator("button.open-finding").click();
  return page.locator(`#finding-detail .finding[data-mode=${mode}]`);
}

async function saveDownload(page, button) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  return readFileSync(await download.path(), "utf8");
}

test("demo: both readings in one table, the PID collision explained", async () => {
  const session = await openDemo();
  const { page } = session;
  assert.equal(await findingsIn(page, D1, "as_published").count(), 2);
  assert.equal(await findingsIn(page, D1, "hardened").count(), 4);
  assert.equal(await findingsIn(page, D2, "as_published").count(), 2);
  assert.equal(await findingsIn(page, D2, "hardened").count(), 2);
  const notes = await findingsIn(page, D2, "as_published").locator(".parted").allTextContents();
  assert.ok(notes.some((n) => n.includes("published: joined on pid 7300 only — this connection came from chrome.exe on SRV-FILE01, not from msiexec.exe on FIN-WS-042")), notes.join("\n"));
  const hardenedNotes = await findingsIn(page, D1, "hardened").locator(".parted").allTextContents();
  assert.ok(hardenedNotes.some((n) => n.includes("svc_helper.exe is cmd.exe renamed")));
  assert.ok(hardenedNotes.some((n) => n.includes("whoami.exe is on the extended discovery list")));
  await page.screenshot({ path: path.join(artifacts, "analyst-demo.png"), fullPage: true });
  await assertNoTraffic(session);
  await session.context.close();
});

test("a finding explains itself and draws its process tree and timeline", async () => {
  const session = await openDemo();
  const { page } = session;
  const finding = await openFinding(page, findingsIn(page, D1, "as_published").filter({ hasText: "→ cmd.exe" }), "as_published");
  assert.deepEqual(await finding.locator(".conditions li").allTextContents(), [
    "parent_process_name msiexec.exe = msiexec.exe",
    "process_name cmd.exe is one of powershell.exe, cmd.exe, nltest.exe, ipconfig.exe, systeminfo.exe",
  ]);
  const provenance = await finding.locator(".provenance tr", { hasText: "original_file_name" }).locator("td").allTextContents();
  assert.deepEqual(provenance, ["original_file_name", "OriginalFileName (EventID 1)", "Cmd.Exe"]);
  assert.equal(await finding.locator(".time-source").textContent(), "_time from System/TimeCreated/@SystemTime");

  const nodes = await finding.locator("svg.tree g.node").evaluateAll((gs) => gs.map((g) => `${g.dataset.role} ${g.dataset.name} ${g.dataset.pid}`));
  assert.deepEqual(nodes, [
    "ancestor explorer.exe 3120",
    "ancestor msiexec.exe 4242",
    "process cmd.exe 5120",
    "sibling ipconfig.exe 5130",
    "sibling whoami.exe 5140",
    "sibling svc_helper.exe 5150",
    "sibling notepad.exe 5160",
    "child ipconfig.exe 5124",
  ]);
  assert.equal(await finding.locator("svg.tree line.edge").count(), 7);
  await finding.locator('svg.tree g.node[data-pid="4242"]').click();
  const detail = await finding.locator(".node-detail").textContent();
  assert.match(detail, /cdn-updates\.example:443/);
  assert.match(detail, /invoice_2025\.msi/);
  assert.equal(await finding.locator(".timeline li.moment").count(), 10, "8 process starts and 2 connections");
  await finding.screenshot({ path: path.join(artifacts, "analyst-tree.png") });
  await assertNoTraffic(session);
  await session.context.close();
});

test("a suppression rule hides findings, counts them, survives export and import", async () => {
  const session = await openDemo();
  const { page } = session;
  await page.click("#settings summary");
  await page.selectOption("#rule-detection", D1);
  await page.selectOption("#rule-field", "process_name");
  await page.selectOption("#rule-match", "wildcard");
  await page.fill("#rule-value", "IPCONFIG*");
  await page.click("#rule-add");
  assert.equal(await findingsIn(page, D1, "as_published").count(), 1);
  assert.equal(await findingsIn(page, D1, "hardened").count(), 3);
  assert.match(await page.locator("#finding-status").textContent(), /2 suppressed \(hidden\)/, "one in each reading");
  assert.equal(await findingsIn(page, D2, "as_published").count(), 2, "scoped to one detection");
  await page.check("#show-suppressed");
  assert.equal(await findingsIn(page, D1, "as_published").count(), 2);
  assert.equal(await page.locator("tr.finding-row.suppressed[data-reading=both]").count(), 1, "one row of both readings");
  await page.screenshot({ path: path.join(artifacts, "analyst-suppression.png"), fullPage: true });
  const exported = JSON.parse(await saveDownload(page, "#rules-export"));
  assert.deepEqual(exported, [{ detection_id: D1, field: "process_name", match: "wildcard", value: "IPCONFIG*" }]);

  const fresh = await openDemo();
  assert.equal(await findingsIn(fresh.page, D1, "as_published").count(), 2, "rules are kept per browser profile");
  await fresh.page.click("#settings summary");
  await fresh.page.setInputFiles("#rules-import", { name: "rules.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(exported)) });
  await fresh.page.waitForFunction(() => document.querySelectorAll("#rules li").length === 1);
  assert.equal(await findingsIn(fresh.page, D1, "as_published").count(), 1);
  await assertNoTraffic(session);
  await assertNoTraffic(fresh);
  await session.context.close();
  await fresh.context.close();
});

test("the hardened discovery list is the user's, and resettable", async () => {
  const session = await openDemo();
  const { page } = session;
  await page.click("#settings summary");
  const list = await page.inputValue("#programs");
  assert.match(list, /^nltest\.exe, nltestrk\.exe$/m);
  await page.fill("#programs", list.split("\n").filter((line) => !line.startsWith("whoami.exe")).join("\n"));
  await page.click("#programs-save");
  await page.waitForFunction(() => document.body.dataset.state === "done" && document.querySelectorAll('tr.finding-row[data-modes~=hardened]').length === 5);
  assert.equal(await findingsIn(page, D1, "hardened").count(), 3);
  assert.equal(await findingsIn(page, D1, "as_published").count(), 2, "the published list never changes");
  await page.screenshot({ path: path.join(artifacts, "analyst-settings.png"), fullPage: true });
  await page.click("#programs-reset");
  await page.waitForFunction(() => document.body.dataset.state === "done" && document.querySelectorAll('tr.finding-row[data-modes~=hardened]').length === 6);
  assert.match(await page.inputValue("#programs"), /^whoami\.exe, whoami\.exe$/m);
  await assertNoTraffic(session);
  await session.context.close();
});

test("risk is totalled per object with a configurable threshold", async () => {
  const session = await openDemo();
  const { page } = session;
  const rows = page.locator("table.risk-totals tbody tr");
  assert.deepEqual((await rows.first().locator("td").allTextContents()).slice(0, 3), ["ACME\\j.doe", "user", "90"]);
  assert.equal(await page.locator("tr.over-threshold").count(), 0, "nothing reaches the default 100");
  await page.click("#settings summary");
  await page.fill("#threshold", "60");
  await page.dispatchEvent("#threshold", "change");
  assert.equal(await page.locator("tr.over-threshold").count(), 2);
  await page.locator("#risk").screenshot({ path: path.join(artifacts, "analyst-risk.png") });
  await assertNoTraffic(session);
  await session.context.close();
});

test("exports: JSON equals the CLI, CSV and Navigator layer list the findings", async () => {
  const session = await openDemo();
  const { page } = session;
  const exported = JSON.parse(await saveDownload(page, "#export-json"));
  const dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-demo-"));
  writeFileSync(path.join(dir, "demo-sample.xml"), execFileSync(cli, ["demo"]));
  const native = nativeReport(dir, ["demo-sample.xml"]);
  rmSync(dir, { recursive: true });
  assert.deepEqual(exported, native);

  const csv = (await saveDownload(page, "#export-csv")).trim().split("\r\n");
  assert.equal(csv.length, 11);
  assert.ok(csv[0].startsWith("detection_id,detection,mode,severity,risk_score,risk_message,dest,user"));
  const layer = JSON.parse(await saveDownload(page, "#export-navigator"));
  assert.equal(layer.domain, "enterprise-attack");
  assert.deepEqual(layer.techniques.map((t) => [t.techniqueID, t.score]), [["T1218.007", 4]], "the findings as published, by default");
  await assertNoTraffic(session);
  await session.context.close();
});

test("the HTML report opens from disk, makes no request and shows evidence as text", async () => {
  const session = await openPage(env);
  const { page } = session;
  await drop(page, [{ name: "html.log", bytes: readFileSync(caseInputs("d1_html_in_command_line")[0]) }]);
  const html = await saveDownload(page, "#export-html");
  const file = path.join(artifacts, "report.html");
  writeFileSync(file, html);
  await assertNoTraffic(session);
  await session.context.close();

  const context = await env.browser.newContext({ serviceWorkers: "block" });
  const requests = [];
  context.on("request", (request) => requests.push(request.url()));
  const report = await context.newPage();
  const dialogs = [];
  report.on("dialog", (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });
  await report.goto(`file://${file}`);
  assert.match(await report.locator("body").textContent(), /<img src=x onerror=alert\(1\)>/);
  assert.equal(await report.locator("img").count(), 0);
  assert.deepEqual(requests, [`file://${file}`]);
  assert.deepEqual(dialogs, []);
  await report.screenshot({ path: path.join(artifacts, "analyst-html-report.png"), fullPage: true });
  await context.close();
});
