// The triage workspace as an analyst works it: the findings table (rows merged where the
// readings agree, sorted by every column, narrowed by facets and a filter that outlast
// re-analysis and settings changes), files that could not be read named in a banner,
// the file choosers and the drop zone by keyboard, case state kept per finding and
// carried into every export, and settings that refuse what would mislead. On the demo
// and on a dropped multi-file data set; axe-core in every state at 1440, 1024 and 700 px.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifacts, casesDir, caseInputs, datasetsDir, nativeReport } from "./support.mjs";
import { launch } from "./browser.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const WIDTHS = [1440, 1024, 700];
const D1 = "e9d05aa2-32f0-411b-930c-5b8ca5c4fcee";
const D2 = "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99";
/** A PNG's first bytes: a file that is no log at all. */
const PNG = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

/** A fresh page at `width`, without the CSP so that axe can run; the page's scripts are the same. */
async function openPage(width = 1440) {
  const context = await env.browser.newContext({ serviceWorkers: "block", bypassCSP: true, viewport: { width, height: 900 }, acceptDownloads: true });
  await context.route("**/*", (route) => (route.request().url().startsWith(`${env.server.origin}/`) ? route.continue() : route.abort()));
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("dialog", (dialog) => { problems.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
  await page.goto(`${env.server.origin}/index.html`);
  await page.waitForSelector("body[data-ready=true]");
  return { context, page, problems };
}

async function demo(page) {
  await page.click("#demo");
  await page.waitForSelector("body[data-state=done]");
}

/** Drops files (`{ name, bytes }`) on the drop zone as a user would. */
async function drop(page, files) {
  const payload = files.map(({ name, bytes }) => ({ name, data: bytes.toString("base64") }));
  await page.evaluate((payload) => {
    const transfer = new DataTransfer();
    for (const { name, data } of payload) transfer.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name));
    const zone = document.getElementById("drop");
    for (const type of ["dragenter", "dragover", "drop"]) zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }, payload);
  await page.waitForSelector("body[data-state=done]");
}

/** The shared data set of several files: three SigmaHQ msiexec EVTX, a meterpreter MSI EVTX, a D2 hit, a PNG and an empty file. */
function multiFileSet(datasets) {
  const from = (dir, name) => ({ name, bytes: readFileSync(path.join(datasets, dir, name)) });
  return [
    from("sigmahq_regression_data", "proc_creation_win_msiexec_embedding__4a2a2c3e-209f-4d01-b513-4155a540b469.evtx"),
    from("sigmahq_regression_data", "proc_creation_win_msiexec_execute_dll__6f4191bb-912b-48a8-9ce7-682769541e6d.evtx"),
    from("sigmahq_regression_data", "proc_creation_win_msiexec_install_quiet__79a87aa6-e4bd-42fc-a5bb-5e6fbdcd62f5.evtx"),
    from("sbousseaden_evtx_attack_samples", "Exec_sysmon_meterpreter_reversetcp_msipackage.evtx"),
    { name: "d2_hit.log", bytes: readFileSync(caseInputs("d2_hit")[0]) },
    { name: "screenshot.png", bytes: PNG },
    { name: "empty.evtx", bytes: Buffer.alloc(0) },
  ];
}

/** The table's rows as the columns read. */
const tableRows = (page) => page.locator("tr.finding-row").evaluateAll((rows) => rows.map((tr) => {
  const cells = [...tr.children].map((td) => td.textContent.trim());
  return { time: cells[0], detection: tr.querySelector("button.open-finding").textContent, severity: cells[2], host: cells[3], user: cells[4],
    process: cells[5], pid: cells[6], reading: tr.dataset.reading, status: tr.querySelector(".status-button").dataset.status, key: tr.dataset.key };
}));

/** Waits until the listed row count is `n`. */
const rowsAre = (page, n) => page.waitForFunction((n) => document.querySelectorAll("tr.finding-row").length === n
  && document.getElementById("finding-status").textContent.startsWith(`${n} of`), n);

async function filter(page, text) {
  await page.fill("#finding-filter", text);
  await page.waitForFunction((text) => document.getElementById("finding-status").textContent.includes(text ? `“${text.toLowerCase()}”` : "rows listed;"), text);
}

/** Sets a row's status as a user does: the status button, pressed (by keyboard when `keyboard`), becomes the list. */
async function setRowStatus(row, status, { keyboard = false } = {}) {
  const button = row.locator("button.status-button");
  if (keyboard) {
    await button.focus();
    await button.press("Enter");
  } else {
    await button.click();
  }
  const select = row.locator("select.status-select");
  assert.equal(await select.evaluate((s) => s === document.activeElement), true, "the list has the focus");
  await select.selectOption(status);
}

async function violations(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}; ${v.nodes.length} node(s): ${v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(" | ")}`);
}

/** No axe violation, no sideways page scroll, and the screenshot of `state` at `width`. */
async function check(page, state, width, fullPage = true) {
  assert.deepEqual(await violations(page), [], `axe violations in state "${state}" at ${width} px`);
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
  assert.ok(scrollWidth <= clientWidth + 1, `state "${state}" at ${width} px scrolls sideways: ${scrollWidth} > ${clientWidth}`);
  await page.screenshot({ path: path.join(artifacts, `triage-${state}-${width}.png`), fullPage });
}

test("the demo as a table: readings merged where they agree, sorted by every column, facets with counts, a filter over everything", { timeout: 120_000 }, async () => {
  const { context, page, problems } = await openPage();
  await demo(page);
  assert.match(await page.locator("#headline").textContent(), /^10 findings \(10 active, 0 suppressed\) in 8 rows · 1 file$/);
  const rows = await tableRows(page);
  assert.equal(rows.length, 8, "10 findings, two of them agreed by both readings");
  const readings = (list) => list.map((r) => r.reading).sort().join(",");
  assert.equal(readings(rows), "both,both,hardened,hardened,hardened,hardened,published,published");
  assert.deepEqual(rows.filter((r) => r.reading === "both").map((r) => r.process).sort(), ["msiexec.exe → cmd.exe", "msiexec.exe → ipconfig.exe"]);
  const cmd = rows.find((r) => r.process === "msiexec.exe → cmd.exe");
  assert.deepEqual({ ...cmd, key: undefined }, { time: "2025-03-14 09:10:10", detection: "Windows MSIExec Spawn Discovery Command", severity: "low · 35",
    host: "FIN-WS-042", user: "ACME\\j.doe", process: "msiexec.exe → cmd.exe", pid: "5120", reading: "both", status: "new", key: undefined });
  assert.match(await page.locator('tr[data-reading=published] .parted').first().textContent(), /published:/, "a row only one reading finds says how they part");

  // Sorted by every column, each th telling its order.
  const by = { time: (r) => r.time, detection: (r) => r.detection, host: (r) => r.host.toLowerCase(), user: (r) => r.user.toLowerCase(), pid: (r) => Number(r.pid), reading: (r) => r.reading };
  for (const column of ["time", "detection", "severity", "host", "user", "process", "pid", "reading", "status"]) {
    const th = page.locator(`th[data-column=${column}]`);
    await th.locator("button").click();
    await page.waitForFunction((column) => document.querySelector(`th[data-column=${column}]`).hasAttribute("aria-sort"), column);
    const order = await th.getAttribute("aria-sort");
    assert.equal(await page.locator("#findings th[aria-sort]").count(), 1, "one column sorts");
    if (by[column]) {
      const values = (await tableRows(page)).map(by[column]);
      const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(values, order === "ascending" ? sorted : sorted.reverse(), `sorted by ${column}, ${order}`);
    }
    await th.locator("button").click();
    await page.waitForFunction(([column, order]) => document.querySelector(`th[data-column=${column}]`).getAttribute("aria-sort") !== order, [column, order]);
  }
  await page.locator("th[data-column=pid] button").click();
  await page.waitForFunction(() => document.querySelector("th[data-column=pid]").getAttribute("aria-sort") === "ascending");
  assert.deepEqual((await tableRows(page)).map((r) => r.pid), ["4242", "4242", "4242", "5120", "5130", "5140", "5150", "7300"]);

  // Facets with counts: each value says how many rows choosing it lists.
  const facetText = async (facet) => (await page.locator(`.facet[data-facet=${facet}] li`).allTextContents()).map((t) => t.trim());
  assert.deepEqual(await facetText("reading"), ["hardened (4)", "both (2)", "published (2)"]);
  assert.deepEqual(await facetText("severity"), ["informational (4)", "low (4)"]);
  await page.locator(".facet[data-facet=host] summary").click();
  assert.deepEqual(await facetText("host"), ["FIN-WS-042 (6)", "cdn-updates.example (1)", "www.google.com (1)"]);
  await page.locator(".facet[data-facet=reading] label", { hasText: "both" }).locator("input").check();
  await rowsAre(page, 2);
  assert.deepEqual(await facetText("severity"), ["low (2)"], "the other facets count within the choice");
  await page.locator(".facet[data-facet=reading] label", { hasText: "both" }).locator("input").uncheck();
  await rowsAre(page, 8);

  // The filter reaches row values, raw event values, file names and notes.
  await filter(page, "svc_helper");
  await rowsAre(page, 1);
  assert.equal(await page.locator(".facet[data-facet=host]").getAttribute("open"), "", "a facet the user opened stays open as the table is drawn again");
  await filter(page, "7D3A1C52-1400-67D4"); // the ProcessGuid in cmd.exe's event only
  await rowsAre(page, 1);
  assert.equal((await tableRows(page))[0].process, "msiexec.exe → cmd.exe");
  await filter(page, "demo-sample.xml");
  await rowsAre(page, 8);
  await filter(page, "no such value anywhere");
  await rowsAre(page, 0);
  assert.match(await page.locator(".no-match").textContent(), /No finding matches/);
  assert.equal(await page.locator("#findings-table").isVisible(), false);
  await page.screenshot({ path: path.join(artifacts, "triage-no-match-1440.png") });

  // Filter and sort survive a settings change and a re-analysis.
  await filter(page, "FIN-WS-042");
  await page.click("#settings summary");
  await page.selectOption("#rule-detection", D2);
  await page.selectOption("#rule-field", "dest");
  await page.fill("#rule-value", "www.google.com");
  await page.click("#rule-add");
  await page.waitForFunction(() => /1 suppressed/.test(document.getElementById("finding-status").textContent));
  assert.equal(await page.inputValue("#finding-filter"), "FIN-WS-042", "the filter is kept after a settings change");
  assert.equal(await page.locator("th[data-column=pid]").getAttribute("aria-sort"), "ascending", "so is the sort");
  const listed = (await tableRows(page)).map((r) => r.key);
  assert.equal(listed.length, 7, "the suppressed row is hidden");
  await page.evaluate(() => {
    window.__headlines = [];
    const headline = document.getElementById("headline");
    new MutationObserver(() => window.__headlines.push(headline.textContent)).observe(headline, { childList: true, subtree: true });
  });
  await page.click("#programs-save"); // analyses the files again
  await page.waitForSelector("body[data-state=done]");
  const headlines = await page.evaluate(() => window.__headlines);
  assert.equal(headlines[0], "Analysing 1 file… The findings below are those of the previous analysis until this one ends.", "while it runs, the counts are not passed off as the new ones");
  await page.waitForFunction(() => /^\d+ findings/.test(document.getElementById("headline").textContent));
  await page.waitForFunction(() => document.querySelectorAll("tr.finding-row").length > 0);
  assert.equal(await page.inputValue("#finding-filter"), "FIN-WS-042", "the filter is kept after re-analysis");
  assert.equal(await page.locator("th[data-column=pid]").getAttribute("aria-sort"), "ascending");
  assert.deepEqual((await tableRows(page)).map((r) => r.key), listed, "the same rows in the same order");
  assert.match(await page.locator("#finding-status").textContent(), /“fin-ws-042”/);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a dropped multi-file data set: the table across files, and the files that could not be read named loudly", { timeout: 120_000 }, async (t) => {
  const datasets = datasetsDir();
  if (!datasets) return t.skip("no datasets");
  const { context, page, problems } = await openPage();
  await drop(page, multiFileSet(datasets));
  const banner = page.locator("#headline .unreadable[role=alert]");
  const text = await banner.textContent();
  assert.match(text, /2 files could not be read at all/);
  assert.match(text, /screenshot\.png: not a Sysmon log .*binary data: 89 50 4e 47/);
  assert.match(text, /empty\.evtx: empty file/);
  assert.match(await page.locator("#headline").textContent(), /7 files · 2 not read/);
  const summary = page.locator("#summary table.summary-table tr", { hasText: "Files not read" });
  assert.equal(await summary.locator("td").textContent(), "2");
  const rows = await tableRows(page);
  assert.deepEqual(rows.map((r) => `${r.reading} ${r.host} ${r.process} ${r.pid}`).sort(), [
    "both SigmaCatchVm msiexec.exe → powershell.exe 11056",
    "hardened WS-02 cmd.exe → msiexec.exe 4242",
    "published evil.example cmd.exe → msiexec.exe 4242",
  ]);
  await filter(page, "d2_hit.log"); // a file name, only in the events
  await rowsAre(page, 2);
  await filter(page, "");
  await page.screenshot({ path: path.join(artifacts, "triage-multi-file-1440.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

/** The text of the download a click on `selector` gives. */
async function exported(page, selector) {
  const [download] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  return readFileSync(await download.path(), "utf8");
}

test("case state: a status and a note per finding, kept across reloads and re-analysis, filterable, in every export, cleared by one button", { timeout: 120_000 }, async () => {
  const { context, page, problems } = await openPage();
  await demo(page);
  const whoami = page.locator("tr.finding-row", { hasText: "whoami.exe" });
  await setRowStatus(whoami, "malicious", { keyboard: true });
  await page.waitForFunction(() => document.querySelector(".facet[data-facet=status]")?.textContent.includes("malicious (1)"));
  const cmd = page.locator("tr.finding-row", { hasText: "→ cmd.exe" });
  await cmd.locator("button.open-finding").click();
  await page.locator("#finding-detail select.status-select").selectOption("benign");
  await page.fill("#finding-detail textarea.case-note", "=admin's inventory script, ticket 4711");
  await page.locator("#finding-detail textarea.case-note").blur();
  await page.waitForFunction(() => document.querySelector("tr.finding-row .row-note")?.textContent.includes("ticket 4711"));
  assert.equal(await cmd.locator("button.status-button").getAttribute("data-status"), "benign");

  // The same findings analysed again in a new page: the state is found by the findings' identity.
  await page.reload();
  await page.waitForSelector("body[data-ready=true]");
  await demo(page);
  const statuses = (await tableRows(page)).map((r) => `${r.process} ${r.status}`);
  assert.ok(statuses.includes("msiexec.exe → whoami.exe malicious"));
  assert.ok(statuses.includes("msiexec.exe → cmd.exe benign"));
  assert.equal(statuses.filter((s) => s.endsWith(" new")).length, 6);
  await page.locator(".facet[data-facet=status] summary").click();
  await page.locator(".facet[data-facet=status] label", { hasText: "malicious" }).locator("input").check();
  await rowsAre(page, 1);
  await filter(page, "ticket 4711"); // the note is searched too: nothing malicious has it
  await rowsAre(page, 0);
  await page.click("#clear-filters");
  await rowsAre(page, 8);

  // Every export carries it.
  const csv = await exported(page, "#export-csv");
  const lines = csv.split("\r\n");
  assert.match(lines[0], /,status,note$/);
  assert.equal(lines.filter((l) => l.includes("whoami /groups")).map((l) => l.endsWith(",malicious,")).join(), "true");
  assert.equal(lines.filter((l) => l.includes("cmd.exe /c ipconfig")).length, 2, "both readings' findings of the merged row");
  for (const line of lines.filter((l) => l.includes("cmd.exe /c ipconfig"))) assert.ok(line.endsWith(`,benign,"'=admin's inventory script, ticket 4711"`), line);
  const json = JSON.parse(await exported(page, "#export-json"));
  assert.deepEqual(json.case_state.map((c) => `${json.findings[c.finding].row.process_name} ${c.status} ${c.note}`).sort(), [
    "cmd.exe benign =admin's inventory script, ticket 4711", "cmd.exe benign =admin's inventory script, ticket 4711", "whoami.exe malicious ",
  ]);
  const html = await exported(page, "#export-html");
  assert.match(html, /Status: <strong>malicious<\/strong>/);
  assert.match(html, /Status: <strong>benign<\/strong> — note: =admin's inventory script, ticket 4711/);
  const layer = JSON.parse(await exported(page, "#export-navigator")); // as published: whoami.exe is found by the hardened reading only
  assert.match(layer.techniques[0].comment, /status: .*1 benign/);
  assert.doesNotMatch(layer.techniques[0].comment, /malicious/);
  await page.selectOption("#navigator-reading", "hardened");
  const hardenedLayer = JSON.parse(await exported(page, "#export-navigator"));
  assert.match(hardenedLayer.techniques[0].comment, /status: .*1 benign/);
  assert.match(hardenedLayer.techniques[0].comment, /1 malicious/);

  await page.click("#clear-cases");
  await page.waitForFunction(() => [...document.querySelectorAll("tr.finding-row .status-button")].every((s) => s.dataset.status === "new"));
  assert.equal(await page.evaluate(() => localStorage.getItem("sysmon-lens.case-state")), null);
  assert.equal(JSON.parse(await exported(page, "#export-json")).case_state, undefined, "without case state the JSON is the CLI's");
  assert.deepEqual(problems, []);
  await context.close();
});

const count = (n) => n.toLocaleString("en");
const focusedId = (page) => page.evaluate(() => document.activeElement?.id);

test("by keyboard: the drop zone and Choose files… open the file chooser, Import rules… too; a row opens and closes by keyboard", { timeout: 120_000 }, async () => {
  const { context, page, problems } = await openPage(1024);
  // Intercepting the chooser is set up with the first listener; set it up before any key is pressed.
  page.on("filechooser", () => {});
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
  await page.keyboard.press("Tab");
  assert.equal(await focusedId(page), "drop");
  for (const key of ["Enter", "Space"]) {
    const [chooser] = await Promise.all([page.waitForEvent("filechooser", { timeout: 5000 }), page.keyboard.press(key)]);
    assert.equal(chooser.isMultiple(), true, `${key} on the drop zone opens the chooser`);
    await chooser.setFiles([]); // closes it, choosing nothing
  }
  await page.keyboard.press("Tab");
  assert.equal(await focusedId(page), "choose", "Choose files… is a button of its own");
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press("Enter")]);
  await chooser.setFiles(caseInputs("d1_each_listed_child"));
  await page.waitForSelector("body[data-state=done]");
  assert.ok(await page.locator("tr.finding-row").count() > 0, "the chosen file is analysed");

  await page.click("#settings summary");
  await page.focus("#rules-export");
  await page.keyboard.press("Tab");
  assert.equal(await focusedId(page), "rules-import-button");
  const [rulesChooser] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press("Space")]);
  assert.equal(rulesChooser.isMultiple(), false);

  // Into the table: a sort button, then a row's detection opens it; Close gives the focus back.
  await page.focus("#finding-filter");
  let reached = null;
  for (let i = 0; i < 60 && !reached; i += 1) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => (document.activeElement.matches("button.open-finding") ? document.activeElement.textContent : null));
  }
  assert.ok(reached, "a row's detection button is reached by Tab");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#finding-detail:not([hidden]) .finding[open]");
  assert.equal(await page.evaluate(() => document.activeElement.closest("#finding-detail") !== null), true, "the open finding takes the focus");
  assert.equal(await page.locator("button.open-finding[aria-expanded=true]").count(), 1);
  await page.locator("#finding-detail button.close-detail").focus();
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement.matches("button.open-finding")), true, "Close returns to the row");
  assert.equal(await page.locator("#finding-detail").isHidden(), true);
  assert.deepEqual(problems, []);
  await context.close();
});

test("settings that cannot mislead: fields from the detection's output, a rule that can never match refused, inputs cleared, a whole-number threshold", { timeout: 120_000 }, async () => {
  const { context, page, problems } = await openPage();
  await demo(page);
  await page.click("#settings summary");
  // The detections offered are the core's, as its report lists them.
  const { detections } = nativeReport(casesDir, caseInputs("d2_hit"));
  assert.deepEqual(await page.locator("#rule-detection option").evaluateAll((os) => os.map((o) => `${o.value} ${o.textContent}`)),
    ["* Any detection", ...detections.map((d) => `${d.id} ${d.name}`)]);
  const fields = () => page.locator("#rule-field option").allTextContents();
  await page.selectOption("#rule-detection", D1);
  assert.ok((await fields()).includes("original_file_name"));
  assert.ok(!(await fields()).includes("dest_ip"), "D1 outputs no dest_ip");
  await page.selectOption("#rule-detection", D2);
  assert.ok((await fields()).includes("dest_ip"));
  assert.ok(!(await fields()).includes("host"), "no detection outputs a field host");

  await page.selectOption("#rule-field", "process_id");
  await page.fill("#rule-value", "msiexec");
  await page.click("#rule-add");
  assert.match(await page.locator("#rule-refused").textContent(), /^Rule not added: process_id is always a whole number, which "msiexec" can never equal\.$/);
  assert.equal(await page.locator("#rules li").count(), 0);
  assert.equal(await page.inputValue("#rule-value"), "msiexec", "a refused rule is left to correct");

  await page.selectOption("#rule-field", "user");
  await page.selectOption("#rule-match", "wildcard");
  await page.fill("#rule-value", "*svc_backup");
  await page.click("#rule-add");
  assert.equal(await page.locator("#rule-refused").isHidden(), true);
  assert.equal(await page.locator("#rules li code").textContent(), "user wildcard *svc_backup");
  assert.deepEqual([await page.inputValue("#rule-detection"), await page.inputValue("#rule-match"), await page.inputValue("#rule-value")], ["*", "equals", ""], "inputs cleared after Add");
  await page.waitForFunction(() => /1 suppressed/.test(document.getElementById("headline").textContent));
  await page.check("#show-suppressed");
  await page.waitForSelector("tr.finding-row.suppressed");
  assert.match(await page.locator("tr.finding-row.suppressed .suppressed-tag").textContent(), /suppressed: user wildcard \*svc_backup/);

  // A rule file naming a field no detection outputs is refused with the reason.
  await page.setInputFiles("#rules-import", { name: "rules.json", mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify([{ detection_id: "*", field: "host", match: "equals", value: "FIN-WS-042" }])) });
  await page.waitForFunction(() => /rules\.json: 1 imported rule was not valid/.test(document.getElementById("notices").textContent));
  assert.match(await page.locator("#notices").textContent(), /no detection outputs a field host .*so it would never match/);

  for (const typed of ["-5", "2.5", "0"]) {
    await page.fill("#threshold", typed);
    await page.locator("#threshold").dispatchEvent("change");
    assert.equal(await page.inputValue("#threshold"), "100", `${typed} is refused; the field shows what is used`);
    assert.match(await page.locator("#threshold-used").textContent(), new RegExp(`“${typed.replace(".", "\\.")}” is not a positive whole number; 100 is still used`));
  }
  await page.fill("#threshold", "60");
  await page.locator("#threshold").dispatchEvent("change");
  assert.equal(await page.locator("#threshold-used").textContent(), "In use: 60.");
  await page.waitForFunction(() => document.getElementById("risk").textContent.includes("threshold (60)"));
  assert.equal(await page.locator("#risk tr.over-threshold").count(), 2, "ACME\\j.doe (90) and FIN-WS-042 (70)");
  assert.deepEqual(problems, []);
  await context.close();
});

for (const width of WIDTHS) {
  test(`at ${width} px: empty, analysed, a finding open, settings open and suppressed shown have no axe violation and no sideways scroll`, { timeout: 180_000 }, async (t) => {
    const { context, page, problems } = await openPage(width);
    await check(page, "empty", width);
    await demo(page);
    await check(page, "analysed", width);
    await page.locator("tr.finding-row", { hasText: "→ cmd.exe" }).locator("button.open-finding").click();
    await page.locator("#finding-detail svg.tree g.node").first().waitFor();
    await check(page, "finding-open", width);
    await page.locator("#finding-detail").evaluate((node) => node.scrollIntoView({ block: "start" }));
    await page.screenshot({ path: path.join(artifacts, `triage-finding-open-top-${width}.png`) });
    await page.click("#settings summary");
    await page.selectOption("#rule-detection", D2);
    await page.selectOption("#rule-field", "dest");
    await page.fill("#rule-value", "www.google.com");
    await page.click("#rule-add");
    await page.check("#show-suppressed");
    await page.waitForSelector("tr.finding-row.suppressed");
    await check(page, "settings-suppressed", width);
    const datasets = datasetsDir();
    if (datasets) {
      await page.click("#clear");
      await drop(page, multiFileSet(datasets));
      await page.evaluate(() => window.scrollTo(0, 0));
      const counts = await page.locator("#headline .headline-counts").boundingBox();
      const banner = await page.locator("#headline .unreadable").boundingBox();
      assert.ok(counts.y + counts.height <= 900 && banner.y < 900, `the counts and the banner of files not read are in the first screen: ${JSON.stringify({ counts, banner })}`);
      await page.screenshot({ path: path.join(artifacts, `triage-multi-file-first-screen-${width}.png`) });
      await check(page, "multi-file", width);
    }
    assert.deepEqual(problems, []);
    await context.close();
  });
}

/** The msiexec.exe → cmd.exe event of the d1_each_listed_child case, as a template. */
const TEMPLATE = readFileSync(path.join(casesDir, "d1_each_listed_child", "input.log"), "utf8").split("\n")[1];
const LARGE_EVENTS = 700;

/** A log of LARGE_EVENTS processes: cmd.exe on three hosts by two users, every fifth one whoami.exe (only the hardened reading lists it). */
function largeLog(dir) {
  const guid = (id) => `{11111111-0000-0000-0000-${String(id).padStart(12, "0")}}`;
  const lines = [];
  for (let n = 0; n < LARGE_EVENTS; n += 1) {
    const time = new Date(Date.UTC(2024, 4, 1, 10) + n * 1000).toISOString().replace(".000Z", "");
    const program = n % 5 === 4 ? "whoami.exe" : "cmd.exe";
    lines.push(TEMPLATE
      .replace("2024-05-01T10:01:01.000000000Z", `${time}.000000000Z`).replace("2024-05-01 10:01:01.000", `${time.replace("T", " ")}.000`)
      .replace("<Data Name='ProcessId'>7001<", `<Data Name='ProcessId'>${100_000 + n}<`).replace(guid(7001), guid(1_000_000 + n))
      .replaceAll("<Computer>WS-01</Computer>", `<Computer>WS-0${(n % 3) + 1}</Computer>`).replaceAll("CORP\\alice", n % 2 ? "CORP\\bob" : "CORP\\alice")
      .replace("cmd.exe /c dir", `cmd.exe /c dir task-${n}`)
      .replaceAll("cmd.exe", program).replace("Cmd.Exe", program === "cmd.exe" ? "Cmd.Exe" : "whoami.exe"));
  }
  const file = path.join(dir, "many.xml");
  writeFileSync(file, `${lines.join("\n")}\n`);
  return file;
}

test("a report too large for the page (over 1,000 findings): the worker sorts, narrows and filters the table the same way", { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-triage-"));
  const { context, page, problems } = await openPage();
  try {
    await page.setInputFiles("#file", largeLog(dir));
    await page.waitForSelector("body[data-state=done]");
    const hardenedOnly = LARGE_EVENTS / 5;
    const findings = 2 * (LARGE_EVENTS - hardenedOnly) + hardenedOnly;
    assert.match(await page.locator("#headline").textContent(), new RegExp(`^${count(findings)} findings \\(${count(findings)} active, 0 suppressed\\) in ${LARGE_EVENTS} rows`));
    assert.match(await page.locator("#findings > nav.pager").textContent(), new RegExp(`^Showing 1–50 of ${LARGE_EVENTS}`));
    const facetText = async (facet) => (await page.locator(`.facet[data-facet=${facet}] li`).allTextContents()).map((t) => t.trim());
    assert.deepEqual(await facetText("reading"), [`both (${LARGE_EVENTS - hardenedOnly})`, `hardened (${hardenedOnly})`]);
    await page.locator(".facet[data-facet=host] summary").click();
    assert.deepEqual(await facetText("host"), ["WS-01 (234)", "WS-02 (233)", "WS-03 (233)"]);

    await page.locator(".facet[data-facet=host] label", { hasText: "WS-02" }).locator("input").check();
    await page.waitForFunction(() => document.getElementById("finding-status").textContent.startsWith("233 of"));
    await page.locator(".facet[data-facet=user] summary").click();
    assert.deepEqual(await facetText("user"), ["CORP\\bob (117)", "CORP\\alice (116)"], "counted within the host chosen");
    await page.locator("th[data-column=pid] button").click();
    await page.waitForFunction(() => document.querySelector("th[data-column=pid]").getAttribute("aria-sort") === "ascending");
    await page.locator("th[data-column=pid] button").click();
    await page.waitForFunction(() => document.querySelector("th[data-column=pid]").getAttribute("aria-sort") === "descending");
    const pids = (await tableRows(page)).map((r) => Number(r.pid));
    assert.equal(pids.length, 50, "a page of rows");
    assert.deepEqual(pids, [...pids].sort((a, b) => b - a));
    assert.equal(pids[0], 100_000 + 697, "the highest pid on WS-02 (n % 3 = 1) comes first");
    assert.ok((await tableRows(page)).every((r) => r.host === "WS-02"));

    await filter(page, "many.xml"); // the file's name, in no row value: searched in the worker too
    await page.waitForFunction(() => document.getElementById("finding-status").textContent.startsWith("233 of"));
    await filter(page, "task-13"); // task-13 and task-130…139: those on WS-02
    const listed = (await tableRows(page)).map((r) => r.pid).sort();
    assert.deepEqual(listed, [13, 130, 133, 136, 139].map((n) => String(100_000 + n)));
    await setRowStatus(page.locator("tr.finding-row", { hasText: String(100_000 + 13) }), "investigating");
    await page.waitForFunction(() => document.querySelector(".facet[data-facet=status]")?.textContent.includes("investigating (1)"));
    await page.locator("tr.finding-row", { hasText: String(100_000 + 13) }).locator("button.open-finding").click();
    await page.locator("#finding-detail .finding[open] .part").first().waitFor();
    assert.match(await page.locator("#finding-detail").textContent(), /cmd\.exe \/c dir task-13\b/, "the open finding comes in full from the worker");
    const csv = await exported(page, "#export-csv");
    assert.equal(csv.split("\r\n").filter((l) => l.endsWith(",investigating,")).length, 2, "both readings' findings of the row");
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every severity badge and the suppressed tag reach 4.5:1 contrast, whether or not the data has them", { timeout: 60_000 }, async () => {
  const { context, page } = await openPage();
  const ratios = await page.evaluate(() => {
    const luminance = (rgb) => {
      const [r, g, b] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map((v) => Number(v) / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const ratio = (a, b) => (Math.max(luminance(a), luminance(b)) + 0.05) / (Math.min(luminance(a), luminance(b)) + 0.05);
    /** The contrast of a `className` span inside a findings-table row of `rowClass`, against what is behind it. */
    const probe = (className, rowClass = "finding-row") => {
      const node = document.createElement("span");
      node.className = className;
      node.textContent = "x";
      const table = document.createElement("table");
      table.className = "findings-table";
      const row = table.createTBody().insertRow();
      row.className = rowClass;
      row.insertCell().append(node);
      document.getElementById("findings").append(table);
      const own = getComputedStyle(node).backgroundColor;
      const cell = getComputedStyle(row.cells[0]).backgroundColor;
      const transparent = "rgba(0, 0, 0, 0)";
      const back = own !== transparent ? own : cell !== transparent ? cell : "rgb(255, 255, 255)";
      const value = ratio(getComputedStyle(node).color, back);
      table.remove();
      return [`${className} in ${rowClass}`, Number(value.toFixed(2))];
    };
    return Object.fromEntries([
      ...["informational", "low", "medium", "high", "critical"].map((severity) => probe(`badge sev-${severity}`)),
      probe("tag suppressed-tag", "finding-row suppressed"), probe("parted", "finding-row suppressed"), probe("row-note", "finding-row open"),
    ]);
  });
  for (const [badge, value] of Object.entries(ratios)) assert.ok(value >= 4.5, `${badge}: ${value}:1`);
  await context.close();
});
