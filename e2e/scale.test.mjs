// Results at any scale, in headless Chromium: 100,000 findings and a zip of 100,000
// members each render, a page at a time, with no main-thread task of 100 ms or more
// from the moment the report arrives to the rendered page (long tasks, observed from
// before the page loads); an analysis that reaches its wasm memory limit says so in
// words and keeps what it read; Trusted Types and the CSP report no violation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifacts, casesDir, caseNames, caseInputs, cli, www } from "./support.mjs";
import { launch } from "./browser.mjs";
import init, { Analyzer } from "../www/pkg/sysmon_lens.js";

const LONG_TASK_LIMIT_MS = 100;
const FINDING_EVENTS = 50_000; // each gives a finding in both readings
const MEMBERS = 100_000;

let env;
let dir;
before(async () => {
  env = await launch();
  dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-scale-"));
});
after(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The second event of the d1_each_listed_child case (msiexec.exe → cmd.exe), as a template. */
const TEMPLATE = readFileSync(path.join(casesDir, "d1_each_listed_child", "input.log"), "utf8").split("\n")[1];

/** The template event as process `n`: its own pid, GUID, parent and second. */
function processEvent(n, { child = "cmd.exe", original = "Cmd.Exe", host = "WS-01" } = {}) {
  const time = new Date(Date.UTC(2024, 4, 1, 10) + n * 1000).toISOString().replace(".000Z", "");
  const guid = (id) => `{11111111-0000-0000-0000-${String(id).padStart(12, "0")}}`;
  return TEMPLATE
    .replace("2024-05-01T10:01:01.000000000Z", `${time}.000000000Z`).replace("2024-05-01 10:01:01.000", `${time.replace("T", " ")}.000`)
    .replace("<Data Name='ProcessId'>7001<", `<Data Name='ProcessId'>${100_000 + n}<`).replace(guid(7001), guid(1_000_000 + n))
    .replace("<Data Name='ParentProcessId'>4242<", `<Data Name='ParentProcessId'>${200_000 + n}<`).replace(guid(4242), guid(2_000_000 + n))
    .replaceAll("cmd.exe", child).replace("Cmd.Exe", original).replace("<Computer>WS-01<", `<Computer>${host}<`);
}

/** A log of `count` events, `options(n)` shaping the n-th; `commandLine(n)`, if given, replaces its command line. */
function writeLog(name, count, options, commandLine = null) {
  const file = path.join(dir, name);
  const fd = openSync(file, "w");
  for (let n = 0; n < count; n += 1) {
    const event = processEvent(n, options(n));
    writeSync(fd, `${commandLine ? event.replace("cmd.exe /c dir", commandLine(n)) : event}\n`);
  }
  closeSync(fd);
  return file;
}

/** A page with a long-task observer and a CSP / Trusted Types violation listener installed before it loads. */
async function openPage(query = "", viewport = { width: 1440, height: 900 }) {
  const context = await env.browser.newContext({ serviceWorkers: "block", acceptDownloads: true, viewport });
  await context.route("**/*", (route) => (route.request().url().startsWith(`${env.server.origin}/`) ? route.continue() : route.abort()));
  await context.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: "longtask", buffered: true });
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__violations.push(`${e.effectiveDirective}: ${e.blockedURI} ${e.sample}`));
  });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (message) => message.type() === "error" && problems.push(`console: ${message.text()}`));
  page.on("dialog", (dialog) => { problems.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
  await page.goto(`${env.server.origin}/index.html${query}`);
  await page.waitForSelector("body[data-ready=true]");
  return { context, page, problems };
}

/** Chooses `file`, waits for the rendered report; the figures of the run. */
async function analyze(page, file) {
  const started = Date.now();
  await page.setInputFiles("#file", file);
  await page.waitForSelector("body[data-state=done]", { timeout: 600_000 });
  const seconds = (Date.now() - started) / 1000;
  const marks = await page.evaluate(() => Object.fromEntries(["report", "rendered"].map((name) =>
    [name, performance.getEntriesByName(`sysmon-lens:${name}`).at(-1).startTime])));
  return { seconds, renderMs: marks.rendered - marks.report, longest: await longestTaskSince(page, marks.report),
    wasmMiB: Number(await page.evaluate(() => document.body.dataset.wasmMemory)) / 2 ** 20 };
}

/** A long-task figure: the browser reports only tasks of 50 ms or more. */
const task = (ms) => (ms ? `${ms.toFixed(0)} ms` : "none of 50 ms or more");

/** The longest main-thread task that ended after `since` (page time), once the observer has caught up. */
async function longestTaskSince(page, since) {
  await page.waitForTimeout(300);
  return page.evaluate((since) => Math.max(0, ...window.__longTasks.filter((t) => t.start + t.duration >= since).map((t) => t.duration)), since);
}

/** Waits until `locator`'s text matches `pattern` (a page turn is answered by the worker). */
async function waitForText(locator, pattern) {
  for (const started = Date.now(); !pattern.test(await locator.textContent());) {
    assert.ok(Date.now() - started < 10_000, `${await locator.textContent()} never matched ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The observer does report a task of 150 ms: block the main thread that long and look. */
async function assertObserverSeesLongTasks(page) {
  await page.evaluate(() => setTimeout(() => { const until = performance.now() + 150; while (performance.now() < until); }));
  await page.waitForFunction(() => window.__longTasks.some((t) => t.duration >= 150));
}

async function assertClean({ page, problems }) {
  assert.deepEqual(await page.evaluate(() => window.__violations), [], "no CSP or Trusted Types violation");
  assert.deepEqual(problems, []);
}

async function saveDownload(page, button) {
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 300_000 }), page.click(button)]);
  return readFileSync(await download.path());
}

test(`${(2 * FINDING_EVENTS).toLocaleString("en")} findings render a page at a time, main thread never blocked ${LONG_TASK_LIMIT_MS} ms`, { timeout: 900_000 }, async () => {
  const log = writeLog("findings.xml", FINDING_EVENTS, () => ({}));
  const session = await openPage();
  const { page } = session;
  const run = await analyze(page, log);
  console.log(`# ${(2 * FINDING_EVENTS).toLocaleString("en")} findings: drop to rendered ${run.seconds.toFixed(1)} s; report arrival to rendered ${run.renderMs.toFixed(0)} ms; longest main-thread task ${task(run.longest)}; wasm memory ${run.wasmMiB.toFixed(0)} MiB`);
  assert.equal(await page.locator("#finding-status").textContent(), "50,000 of 50,000 rows listed; 100,000 findings: 100,000 active, 0 suppressed.",
    "each row holds the finding of both readings");
  const pager = page.locator("#findings > nav.pager");
  assert.match(await pager.textContent(), /^Showing 1–50 of 50,000/);
  assert.equal(await page.locator("tr.finding-row").count(), 50, "a page of rows, nothing more");
  /** Opens the first row on screen and gives its finding as published. */
  const openFirst = async () => {
    await page.locator("tr.finding-row button.open-finding").first().click();
    return page.locator("#finding-detail .finding[data-mode=as_published]");
  };
  assert.ok(run.longest < LONG_TASK_LIMIT_MS, `longest task ${run.longest} ms`);

  // The paged view, wide and narrow.
  const toFindings = () => page.evaluate(() => document.getElementById("findings").previousElementSibling.scrollIntoView());
  await toFindings();
  await page.screenshot({ path: path.join(artifacts, "scale-findings-1440.png") });
  await page.setViewportSize({ width: 700, height: 900 });
  await toFindings();
  await page.screenshot({ path: path.join(artifacts, "scale-findings-700.png") });
  await page.setViewportSize({ width: 1440, height: 900 });

  // A finding opens to its panels, sent in full with its page.
  const first = await openFirst();
  assert.equal(await first.locator("table.row tr", { has: page.locator('th:text-is("process_id")') }).locator("td").textContent(), "100000");
  assert.ok(await first.locator("svg.tree g.node").count() >= 1);

  // The next page, and its panels.
  let since = await page.evaluate(() => performance.now());
  await pager.locator("button.next").click();
  await waitForText(pager, /^Showing 51–100 of 50,000/);
  const later = await openFirst();
  assert.equal(await later.locator("table.row tr", { has: page.locator('th:text-is("process_id")') }).locator("td").textContent(), "100050");
  const pageTurn = await longestTaskSince(page, since);

  // The filter runs over every finding, not only those on screen.
  since = await page.evaluate(() => performance.now());
  await page.fill("#finding-filter", "149999");
  await page.waitForFunction(() => document.getElementById("finding-status")?.textContent.includes("matching"));
  assert.equal(await page.locator("#finding-status").textContent(), "1 of 50,000 rows listed (matching “149999”); 100,000 findings: 100,000 active, 0 suppressed.");
  assert.equal(await page.locator("tr.finding-row").count(), 1);
  const filtering = await longestTaskSince(page, since);
  console.log(`# longest main-thread task turning a page: ${task(pageTurn)}; filtering 100,000 findings: ${task(filtering)}`);
  assert.ok(pageTurn < LONG_TASK_LIMIT_MS && filtering < LONG_TASK_LIMIT_MS, `${pageTurn} ms, ${filtering} ms`);

  await assertObserverSeesLongTasks(page);
  // The CSV of every finding, from the core through the worker.
  const csv = (await saveDownload(page, "#export-csv")).toString("utf8").trimEnd().split("\r\n");
  assert.equal(csv.length, 1 + 2 * FINDING_EVENTS);
  assert.ok(csv[0].startsWith("detection_id,detection,mode,severity,risk_score,risk_message,"), csv[0]);
  await assertClean(session);
  await session.context.close();
});

test(`a zip of ${MEMBERS.toLocaleString("en")} members: one row per member, a page at a time; the JSON export is the CLI's, byte for byte`, { timeout: 900_000 }, async () => {
  const zip = path.join(dir, "members.zip");
  // Each member a one-event log of its own host (no finding): Python's zipfile writes it.
  const event = processEvent(0, { child: "notepad.exe", original: "Notepad.Exe" });
  execFileSync("python3", ["-c", `
import sys, zipfile
event, path, members = sys.argv[1], sys.argv[2], int(sys.argv[3])
with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
    for i in range(members):
        z.writestr(f"logs/host{i:06d}.xml", event.replace("<Computer>WS-01<", f"<Computer>WS-{i:06d}<") + "\\n")
`, event, zip, String(MEMBERS)]);
  const session = await openPage();
  const { page } = session;
  const run = await analyze(page, zip);
  console.log(`# zip of ${MEMBERS.toLocaleString("en")} members: drop to rendered ${run.seconds.toFixed(1)} s; report arrival to rendered ${run.renderMs.toFixed(0)} ms; longest main-thread task ${task(run.longest)}; wasm memory ${run.wasmMiB.toFixed(0)} MiB`);
  const rows = page.locator("table.files tbody tr");
  assert.equal(await rows.count(), 100);
  const pager = page.locator("#summary .pager").first();
  assert.match(await pager.textContent(), /^Showing 1–100 of 100,000/);
  assert.equal(await rows.first().locator("td").first().textContent(), "members.zip/logs/host000000.xml");
  assert.ok(run.longest < LONG_TASK_LIMIT_MS, `longest task ${run.longest} ms`);
  const since = await page.evaluate(() => performance.now());
  await pager.locator("button.next").click();
  await waitForText(rows.first().locator("td").first(), /^members\.zip\/logs\/host000100\.xml$/);
  assert.match(await page.locator("#summary table.summary-table").textContent(), /WS-000049, and 99,950 more \(in the JSON report\)/);
  const pageTurn = await longestTaskSince(page, since);
  console.log(`# longest main-thread task turning a page of files: ${task(pageTurn)}`);
  assert.ok(pageTurn < LONG_TASK_LIMIT_MS, `${pageTurn} ms`);
  await assertObserverSeesLongTasks(page);

  const exported = await saveDownload(page, "#export-json");
  let native;
  try {
    native = execFileSync(cli, ["scan", "--format", "json", "members.zip"], { cwd: dir, maxBuffer: 1 << 30 });
  } catch (err) {
    native = err.stdout; // exit status 1 or 2 still prints the report
  }
  assert.ok(exported.equals(native), `the export (${exported.length} bytes) is the CLI's report (${native.length} bytes)`);
  await assertClean(session);
  await session.context.close();
});

test("an analysis that reaches its wasm memory limit says so in words and keeps what it read", { timeout: 600_000 }, async () => {
  // 100 msiexec.exe → cmd.exe events first, then notepad.exe processes until memory runs short.
  const log = writeLog("many-processes.xml", 300_000, (n) => (n < 100 ? {} : { child: "notepad.exe", original: "Notepad.Exe" }));
  const session = await openPage("?memory-limit-mib=64");
  const { page } = session;
  await page.setInputFiles("#file", log);
  await page.waitForSelector("body[data-state=done]", { timeout: 600_000 });
  const message = await page.locator("#progress .memory-stop").textContent();
  console.log(`# ${message}`);
  const events = Number(/after reading ([\d,]+) events/.exec(message)?.[1].replaceAll(",", ""));
  assert.ok(events >= 100 && events < 300_000, `${events} events read`);
  assert.match(message, /WebAssembly memory reached [\d,]+ MiB, past its limit of 64 MiB/);
  assert.match(message, /a wasm32 module can address at most 4 GiB/);
  assert.match(message, /in many-processes\.xml at [\d.]+ MiB of [\d.]+ MiB/);
  assert.match(message, /split the file into smaller files/);
  assert.match(message, /command-line tool \(sysmon-lens scan\)/);
  assert.equal(await page.locator("#finding-status").textContent(), "100 of 100 rows listed; 200 findings: 200 active, 0 suppressed.",
    "the findings of the events read are kept");
  assert.match(await page.locator("table.files tbody tr").first().locator("td").nth(3).textContent(), new RegExp(`EID 1: ${events}\\b`));
  await page.locator("#progress").screenshot({ path: path.join(artifacts, "scale-memory-limit.png") });
  await assertClean(session);
  await session.context.close();
});

test("wasm memory running out for good (no limit short of 4 GiB) is told in words, and the page goes on", { timeout: 600_000 }, async () => {
  // Each msiexec.exe → cmd.exe event carries a 4 MiB command line, which the analysis copies many times over.
  const log = writeLog("long-command-lines.xml", 300, () => ({}), (n) => `cmd.exe /c ${String.fromCharCode(97 + (n % 26)).repeat(4 << 20)}`);
  const session = await openPage("?memory-limit-mib=4096");
  const { page } = session;
  await page.setInputFiles("#file", log);
  await page.waitForSelector("body[data-state=failed]", { timeout: 600_000 });
  rmSync(log);
  const message = await page.locator("#progress .error").first().textContent();
  console.log(`# ${message}`);
  assert.match(message, /^The analysis stopped after reading [\d,]+ events \(in long-command-lines\.xml, [\d.]+ GiB of 1\.2 GiB\): it ran out of memory\./);
  assert.match(message, /a wasm32 module can address at most 4 GiB/);
  assert.match(message, /Split the file into smaller files .* or use the command-line tool \(sysmon-lens scan\)/);
  assert.doesNotMatch(message, /borrowed|unreachable/);
  // A new worker takes over.
  await page.click("#demo");
  await page.waitForSelector("body[data-state=done]");
  assert.ok(await page.locator("tr.finding-row").count() > 0);
  await session.context.close();
});

test("Trusted Types are in force, and the demo, an opened finding and every export raise no violation", { timeout: 120_000 }, async () => {
  const session = await openPage();
  const { page } = session;
  await page.click("#demo");
  await page.waitForSelector("body[data-state=done]");
  await page.locator("tr.finding-row button.open-finding").first().click();
  for (const button of ["#export-json", "#export-csv", "#export-html", "#export-navigator"]) assert.ok((await saveDownload(page, button)).length > 0, button);
  await assertClean(session);
  // Refused: HTML through a sink, a script URL not made by the page's policy, another policy.
  const refused = await page.evaluate(() => [
    () => { document.createElement("div").innerHTML = "<b>x</b>"; },
    () => new Worker("worker.js", { type: "module" }),
    () => trustedTypes.createPolicy("another", {}),
  ].map((attempt) => {
    try {
      attempt();
      return "allowed";
    } catch (err) {
      return err.name;
    }
  }));
  assert.deepEqual(refused, ["TypeError", "TypeError", "TypeError"]);
  await session.context.close();
});

test("the report read in parts (as the worker reads it) is the CLI's document, and its CSV the CLI's CSV", async () => {
  await init({ module_or_path: readFileSync(path.join(www, "pkg", "sysmon_lens_bg.wasm")) });
  const cliOutput = (format, cwd, files) => {
    try {
      return execFileSync(cli, ["scan", "--format", format, ...files], { cwd, stdio: ["ignore", "pipe", "ignore"] }).toString("utf8");
    } catch (err) {
      return err.stdout.toString("utf8"); // exit status 1 (findings) or 2 (a file unreadable) after the report
    }
  };
  for (const name of caseNames()) {
    const cwd = path.join(casesDir, name);
    const files = caseInputs(name).map((p) => path.basename(p));
    const analyzer = new Analyzer();
    for (const file of files) {
      analyzer.beginFile(file);
      assert.ok(analyzer.feed(readFileSync(path.join(cwd, file))));
      analyzer.endFile();
    }
    const report = analyzer.finish();
    analyzer.free();
    const items = (list, maxBytes) => {
      const parts = [];
      for (let start = 0; ;) {
        const [data, end] = report.items(list, start, maxBytes);
        if (end === start) return parts;
        parts.push(data.slice(1, -1));
        start = end;
      }
    };
    // Parts of one item each (the smallest budget), as the worker joins them.
    const document = report.documentFrame().map((piece, i) => (i % 2 ? items(piece, 1).join(",") : piece)).join("") + "\n";
    assert.equal(document, cliOutput("json", cwd, files), name);
    const whole = JSON.parse(document);
    const briefs = JSON.parse(`[${items("finding_briefs", 1 << 20).join(",")}]`);
    assert.deepEqual(briefs, whole.findings.map((f) => ({ detection_id: f.detection_id, detection: f.detection, mode: f.mode, row: f.row,
      risk: f.risk, annotations: f.annotations, explanation: { notes: f.explanation.notes }, event_files: [...new Set(f.events.map((e) => e.file))] })), name);
    const all = Uint32Array.from(whole.findings.keys());
    assert.equal(report.findingsCsv(all), cliOutput("csv", cwd, files), name);
    assert.deepEqual(JSON.parse(report.findingsAt(Uint32Array.from([...all].reverse()))), whole.findings.reverse(), name);
    report.free();
  }
});
