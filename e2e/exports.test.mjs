// Risk and exports agree with the page: each finding behind a risk total opens in the
// findings table's detail panel (by mouse and keyboard, even when the table lists no row
// of it); the ATT&CK Navigator layer scores one reading, never adding up the two readings'
// findings of one activity; the HTML report shows what the page shows (severity, the time
// it was made, the input files with size and SHA-256, the suppression applied, case
// state, each finding's tree and timeline) and opens from disk without a request.
// On the demo and on dropped shared data set files.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import path from "node:path";
import { artifacts, caseInputs, cli, datasetsDir } from "./support.mjs";
import { launch, drop } from "./browser.mjs";
import { Sha256 } from "../www/sha256.js";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const D2 = "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99";

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

/** A fresh page (without the CSP, so that axe can run) that may ask nothing off its origin. */
async function openPage(width = 1440) {
  const context = await env.browser.newContext({ serviceWorkers: "block", bypassCSP: true, viewport: { width, height: 900 }, acceptDownloads: true });
  const offOrigin = [];
  await context.route("**/*", (route) => {
    if (route.request().url().startsWith(`${env.server.origin}/`)) return route.continue();
    offOrigin.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("dialog", (dialog) => { problems.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
  await page.goto(`${env.server.origin}/index.html`);
  await page.waitForSelector("body[data-ready=true]");
  return { context, page, problems, offOrigin };
}

async function demo(page) {
  await page.click("#demo");
  await page.waitForSelector("body[data-state=done]");
}

/** Shared data set files: SigmaHQ msiexec EVTX and a meterpreter MSI EVTX. */
function datasetFiles(datasets) {
  return [
    ["sigmahq_regression_data", "proc_creation_win_msiexec_embedding__4a2a2c3e-209f-4d01-b513-4155a540b469.evtx"],
    ["sigmahq_regression_data", "proc_creation_win_msiexec_install_quiet__79a87aa6-e4bd-42fc-a5bb-5e6fbdcd62f5.evtx"],
    ["sbousseaden_evtx_attack_samples", "Exec_sysmon_meterpreter_reversetcp_msipackage.evtx"],
  ].map(([dir, name]) => ({ name, path: path.join(datasets, dir, name), bytes: readFileSync(path.join(datasets, dir, name)) }));
}

async function exported(page, button) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  return readFileSync(await download.path(), "utf8");
}

async function violations(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}; ${v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(" | ")}`);
}

/**
 * Opens every finding named in the risk table (at most `most`), the first by keyboard,
 * with the table narrowed to no row; each opens that finding, whose heading names it.
 */
async function riskLinksOpenTheirFindings(page, most = 8) {
  const links = page.locator("#risk a.risk-finding");
  const n = await links.count();
  assert.ok(n > 0, "the risk table names findings");
  await page.fill("#finding-filter", "no such value anywhere");
  await page.waitForFunction(() => document.querySelectorAll("tr.finding-row").length === 0 && /“no such value anywhere”/.test(document.getElementById("finding-status").textContent));
  for (let i = 0; i < Math.min(n, most); i += 1) {
    const link = links.nth(i);
    const index = await link.getAttribute("data-index");
    const name = await link.textContent();
    if (i === 0) {
      await link.focus();
      await page.keyboard.press("Enter");
    } else {
      await link.click();
    }
    await page.waitForSelector(`#finding-detail:not([hidden]) .finding[data-index="${index}"][data-mode=as_published]`);
    const heading = await page.locator("#finding-detail h3").textContent();
    const [, detection, pid] = /^(.*) \(\d+\): .*, pid (\S+), /.exec(name);
    assert.ok(heading.startsWith(`${detection}: `), `${heading} opened for ${name}`);
    assert.ok(heading.includes(`(pid ${pid})`), `${heading} opened for ${name}`);
    assert.equal(await page.evaluate(() => Boolean(document.activeElement?.closest("#finding-detail"))), true, "the focus goes to the open finding");
  }
  await page.fill("#finding-filter", "");
}

test("demo: each finding behind a risk total opens in the detail panel, by mouse and keyboard; no axe violation", { timeout: 120_000 }, async () => {
  const { context, page, problems, offOrigin } = await openPage();
  await demo(page);
  const names = await page.locator("#risk a.risk-finding").allTextContents();
  assert.equal(names.length, 8);
  const perObject = await page.locator("#risk table.risk-totals tbody tr").evaluateAll((rows) => rows.map((tr) => [...tr.querySelectorAll("a.risk-finding")].map((a) => a.textContent)));
  for (const list of perObject) assert.equal(new Set(list).size, list.length, `the findings of one object are told apart (by pid and time): ${list}`);
  await riskLinksOpenTheirFindings(page);
  await page.locator("#risk").scrollIntoViewIfNeeded();
  assert.deepEqual(await violations(page), [], "axe violations with the risk table shown and a finding open");
  await page.locator("#risk").screenshot({ path: path.join(artifacts, "exports-risk-links-1440.png") });
  assert.deepEqual([problems, offOrigin], [[], []]);
  await context.close();
});

test("a dropped data set: risk contributors open their findings; no axe violation", { timeout: 180_000 }, async (t) => {
  const datasets = datasetsDir();
  if (!datasets) return t.skip("no datasets");
  const { context, page, problems, offOrigin } = await openPage(700);
  await drop(page, datasetFiles(datasets));
  await page.waitForSelector("body[data-state=done]");
  await riskLinksOpenTheirFindings(page, 4);
  assert.deepEqual(await violations(page), [], "axe violations with the risk table shown and a finding open");
  const riskRight = await page.locator("#risk table.risk-totals").evaluate((table) => table.getBoundingClientRect().right);
  assert.ok(riskRight <= 700, `the risk table is wider than the page at 700 px: ${riskRight}`);
  await page.locator("#risk").screenshot({ path: path.join(artifacts, "exports-risk-links-dataset-700.png") });
  assert.deepEqual([problems, offOrigin], [[], []]);
  await context.close();
});

/** Per technique, how many findings of `mode` the JSON report has, none suppressed. */
function techniqueCounts(report, mode) {
  const counts = {};
  for (const finding of report.findings.filter((f) => f.mode === mode)) {
    for (const technique of finding.annotations.mitre_attack) counts[technique.id] = (counts[technique.id] ?? 0) + 1;
  }
  return counts;
}

const layerScores = (layer) => Object.fromEntries(layer.techniques.map((t) => [t.techniqueID, t.score]));

async function layerScoresOneReading(page) {
  const report = JSON.parse(await exported(page, "#export-json"));
  assert.equal(await page.inputValue("#navigator-reading"), "as_published", "published by default");
  const published = JSON.parse(await exported(page, "#export-navigator"));
  assert.deepEqual(layerScores(published), techniqueCounts(report, "as_published"));
  assert.match(published.name, /as published/);
  await page.selectOption("#navigator-reading", "hardened");
  const hardened = JSON.parse(await exported(page, "#export-navigator"));
  assert.deepEqual(layerScores(hardened), techniqueCounts(report, "hardened"));
  assert.match(hardened.name, /hardened/);
  const both = techniqueCounts({ findings: report.findings }, "as_published");
  for (const [id, n] of Object.entries(techniqueCounts(report, "hardened"))) both[id] = (both[id] ?? 0) + n;
  for (const [id, score] of Object.entries(layerScores(published))) assert.ok(score < both[id], `${id}: ${score} is one reading's, not both (${both[id]})`);
  await page.selectOption("#navigator-reading", "as_published");
  return { report, published };
}

test("demo: the Navigator layer scores one reading, published by default, hardened when chosen", { timeout: 120_000 }, async () => {
  const { context, page, problems, offOrigin } = await openPage();
  await demo(page);
  const { published } = await layerScoresOneReading(page);
  for (const width of [1440, 1024, 700]) {
    await page.setViewportSize({ width, height: 900 });
    await page.locator("#results .toolbar").screenshot({ path: path.join(artifacts, `exports-toolbar-${width}.png`) });
  }
  assert.deepEqual(layerScores(published), { "T1218.007": 4 }, "not 10: the 4 published and the 6 hardened findings are the same activity");
  // A suppressed finding is not scored.
  await page.click("#settings summary");
  await page.selectOption("#rule-detection", D2);
  await page.selectOption("#rule-field", "dest");
  await page.fill("#rule-value", "www.google.com");
  await page.click("#rule-add");
  await page.waitForFunction(() => /1 suppressed/.test(document.getElementById("finding-status").textContent));
  assert.deepEqual(layerScores(JSON.parse(await exported(page, "#export-navigator"))), { "T1218.007": 3 });
  assert.deepEqual([problems, offOrigin], [[], []]);
  await context.close();
});

test("a dropped data set: the Navigator layer's scores are one reading's findings", { timeout: 180_000 }, async (t) => {
  const datasets = datasetsDir();
  if (!datasets) return t.skip("no datasets");
  const { context, page, problems, offOrigin } = await openPage();
  await drop(page, datasetFiles(datasets));
  await page.waitForSelector("body[data-state=done]");
  const { published } = await layerScoresOneReading(page);
  assert.ok(published.techniques.length > 0);
  assert.deepEqual([problems, offOrigin], [[], []]);
  await context.close();
});

/** Opens a saved report from disk: it must make no request and run nothing; gives its page. */
async function openFromDisk(file, width) {
  const context = await env.browser.newContext({ serviceWorkers: "block", viewport: { width, height: 900 } });
  const requests = [];
  context.on("request", (request) => requests.push(request.url()));
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", (dialog) => { dialogs.push(dialog.message()); dialog.dismiss(); });
  await page.goto(`file://${file}`);
  return { context, page, settled: () => assert.deepEqual([requests, dialogs], [[`file://${file}`], []]) };
}

test("the HTML report of a dropped data set shows what the page shows, with each input's SHA-256", { timeout: 240_000 }, async (t) => {
  const datasets = datasetsDir();
  if (!datasets) return t.skip("no datasets");
  // With a case of the project's own, for findings of more than one process.
  const d2 = caseInputs("d2_hit")[0];
  const inputs = [...datasetFiles(datasets), { name: "d2_hit.log", path: d2, bytes: readFileSync(d2) }];
  const { context, page, problems, offOrigin } = await openPage();
  await drop(page, inputs);
  await page.waitForSelector("body[data-state=done]");
  // Case state and a suppression rule, as the analyst set them.
  const pids = await page.locator("tr.finding-row td:nth-child(7)").allTextContents();
  const hidden = pids.find((pid) => pid !== pids[0]);
  assert.ok(hidden, `findings of more than one process: ${pids}`);
  await page.locator("tr.finding-row").first().locator("button.status-button").click();
  await page.locator("tr.finding-row").first().locator("select.status-select").selectOption("malicious");
  await page.waitForFunction(() => document.querySelector("tr.finding-row .status-button")?.dataset.status === "malicious");
  await page.click("#settings summary");
  await page.selectOption("#rule-field", "process_id");
  await page.fill("#rule-value", hidden);
  await page.click("#rule-add");
  await page.waitForFunction(() => / [1-9]\d* suppressed/.test(document.getElementById("finding-status").textContent));
  const status = await page.locator("#finding-status").textContent();
  const suppressed = Number(/(\d+) suppressed/.exec(status)[1]);
  const total = Number(/(\d+) findings:/.exec(status)[1]);
  const before = Date.now();
  const html = await exported(page, "#export-html");
  const after = Date.now();
  const report = JSON.parse(await exported(page, "#export-json"));
  assert.deepEqual([problems, offOrigin], [[], []]);
  await context.close();

  const file = path.join(artifacts, "exports-report.html");
  writeFileSync(file, html);
  for (const width of [1440, 700]) {
    const { context: disk, page: opened, settled } = await openFromDisk(file, width);
    const generated = Date.parse(await opened.locator(".generated time").getAttribute("datetime"));
    assert.ok(generated >= before - 1000 && generated <= after, "made when exported");
    assert.match(await opened.locator(".generated").textContent(), /^Generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC by sysmon-lens /);
    // Each input file: name, size and the SHA-256 that sha256sum gives.
    const rows = await opened.locator("table.inputs tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
    assert.deepEqual(rows.map(([name]) => name), inputs.map((input) => input.name));
    for (const [[, size, sha], input] of rows.map((row, i) => [row, inputs[i]])) {
      assert.equal(sha, execFileSync("sha256sum", [input.path], { encoding: "utf8" }).split(" ")[0]);
      assert.ok(size.startsWith(`${input.bytes.length.toLocaleString("en")} bytes`), size);
    }
    // The suppression applied, listed with what it hid; the suppressed findings are not listed, as on the page.
    assert.match(await opened.locator("body").textContent(), new RegExp(`1 rule applied, hiding ${suppressed} findings?; they are not listed below`));
    assert.deepEqual(await opened.locator("table.rules tbody tr").evaluateAll((trs) => trs.map((tr) => tr.textContent)),
      [`process_id equals ${hidden}any detection${suppressed}`]);
    const sections = opened.locator("section.finding");
    assert.equal(await sections.count(), total - suppressed);
    assert.equal(report.findings.length, total);
    // Severity as text and as colour; status; the tree and the timeline of each finding, as pictures.
    const shown = await sections.evaluateAll((list) => list.map((s) => {
      const badge = s.querySelector(".badge");
      return { severity: badge.textContent, colour: getComputedStyle(badge).backgroundColor, status: s.querySelector(".case strong").textContent,
        trees: s.querySelectorAll(".picture svg.tree g.node").length, timeline: s.querySelectorAll(".picture .timeline li.moment").length,
        process: s.querySelector(".picture svg.tree g.node.process")?.getAttribute("data-pid") };
    }));
    const listed = report.findings.filter((f) => String(f.row.process_id) !== hidden);
    assert.deepEqual(shown.map((s) => s.severity), listed.map((f) => `${f.risk.severity} · ${f.risk.score}`));
    for (const s of shown) {
      assert.notEqual(s.colour, "rgba(0, 0, 0, 0)", "the severity has its colour");
      assert.ok(s.trees > 0 && s.timeline > 0, "each finding has its tree and its timeline");
    }
    assert.deepEqual(shown.map((s) => s.process), listed.map((f) => f.process_tree.nodes.find((n) => n.role === "process")?.pid));
    assert.equal(shown.filter((s) => s.status === "malicious").length > 0, true, "the status set on the page");
    assert.deepEqual(await violations(opened), [], `axe violations in the HTML report at ${width} px`);
    await opened.screenshot({ path: path.join(artifacts, `exports-html-report-${width}.png`), fullPage: false });
    await opened.locator("section.finding").first().screenshot({ path: path.join(artifacts, `exports-html-finding-${width}.png`) });
    const { scrollWidth, clientWidth } = await opened.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
    assert.ok(scrollWidth <= clientWidth + 1, `the report scrolls sideways at ${width} px: ${scrollWidth} > ${clientWidth}`);
    settled();
    await disk.close();
  }
});

test("the demo's HTML report: every finding with its tree and timeline, the demo's SHA-256, no suppression", { timeout: 120_000 }, async () => {
  const { context, page, problems, offOrigin } = await openPage();
  await demo(page);
  const html = await exported(page, "#export-html");
  assert.deepEqual([problems, offOrigin], [[], []]);
  await context.close();
  const file = path.join(artifacts, "exports-demo-report.html");
  writeFileSync(file, html);
  const { context: disk, page: opened, settled } = await openFromDisk(file, 1440);
  const bytes = execFileSync(cli, ["demo"]); // the sample the page analyses
  assert.deepEqual(await opened.locator("table.inputs tbody td").allTextContents(),
    ["demo-sample.xml", `${bytes.length.toLocaleString("en")} bytes (${(bytes.length / 1024).toFixed(1)} KiB)`, execFileSync("sha256sum", { input: bytes, encoding: "utf8" }).split(" ")[0]]);
  assert.match(await opened.locator("body").textContent(), /No suppression rule: every finding is listed\./);
  assert.equal(await opened.locator("section.finding").count(), 10);
  assert.equal(await opened.locator("section.finding .picture svg.tree").count(), 10);
  assert.equal(await opened.locator("section.finding .picture .timeline").count(), 10);
  assert.equal(await opened.locator("[tabindex]").count(), 0, "the pictures are static");
  await opened.locator("section.finding").first().screenshot({ path: path.join(artifacts, "exports-demo-finding-1440.png") });
  await opened.setViewportSize({ width: 700, height: 900 });
  const pictures = await opened.locator(".picture svg").evaluateAll((svgs) => svgs.map((svg) => svg.getBoundingClientRect().right));
  assert.ok(Math.max(...pictures) <= 700, "no picture is wider than the page at 700 px");
  await opened.locator("section.finding").first().screenshot({ path: path.join(artifacts, "exports-demo-finding-700.png") });
  settled();
  await disk.close();
});

test("SHA-256 as the worker computes it, chunk by chunk, equals sha256sum", () => {
  const datasets = datasetsDir();
  const file = datasets ? datasetFiles(datasets)[2] : null;
  const bytes = file?.bytes ?? Buffer.from("abc");
  const hash = new Sha256();
  for (let at = 0; at < bytes.length; at += 1000) hash.update(bytes.subarray(at, at + 1000));
  const expected = file ? execFileSync("sha256sum", [file.path], { encoding: "utf8" }).split(" ")[0] : "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert.equal(hash.hex(), expected);
  assert.equal(new Sha256().update(new TextEncoder().encode("abc")).hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "the FIPS 180-4 example");
  assert.equal(new Sha256().hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

test("a report held by the worker (over 1,000 findings): the HTML report has every finding, each with its pictures", { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-exports-"));
  const { context, page, problems, offOrigin } = await openPage();
  try {
    // The demo's events on 110 pairs of hosts: 10 findings each.
    const sample = execFileSync(cli, ["demo"], { encoding: "utf8" });
    const copies = Array.from({ length: 110 }, (_, n) => sample.replace(/<Computer>([^<]*)<\/Computer>/g, `<Computer>$1-${n}</Computer>`));
    const file = path.join(dir, "many-hosts.xml");
    writeFileSync(file, copies.join(""));
    await page.setInputFiles("#file", file);
    await page.waitForSelector("body[data-state=done]", { timeout: 180_000 });
    assert.match(await page.locator("#headline").textContent(), /^1,100 findings/);
    const html = await exported(page, "#export-html");
    assert.equal(html.match(/<section class="finding /g).length, 1100);
    assert.equal(html.match(/<svg class="tree"/g).length, 1100);
    assert.equal(html.match(/<div class="timeline"/g).length, 1100);
    assert.ok(html.includes(`<td class="sha256">${execFileSync("sha256sum", [file], { encoding: "utf8" }).split(" ")[0]}</td>`));
    assert.ok(html.endsWith("</main></body></html>\n"));
    assert.deepEqual([problems, offOrigin], [[], []]);
  } finally {
    await context.close();
    rmSync(dir, { recursive: true });
  }
});
