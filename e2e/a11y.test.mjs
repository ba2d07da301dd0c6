// A page feature is done when a person can use it: at 1440, 1024 and 700 px wide, each
// state of the page (empty, the demo analysed, a finding opened, a refused setting, a
// paged list, the wasm memory limit reached) has no axe-core violation and, at 700 px,
// no horizontal scrolling; a screenshot of each is saved. The whole path, from the demo
// to the next page of the findings table and the exports, works with the keyboard alone.
// axe is injected into a context that bypasses the page's CSP (its Trusted Types would
// refuse axe's own DOM writes); the page's scripts are the same.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifacts, casesDir } from "./support.mjs";
import { launch } from "./browser.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const WIDTHS = [1440, 1024, 700];
const PAGED_EVENTS = 150; // 300 findings: 150 in each reading, so each pages at 100
const MEMORY_LIMIT_MIB = 4; // reached after some hundreds of events
const MEMORY_EVENTS = 5_000;

let env;
let dir;
let pagedLog;
let memoryLog;
before(async () => {
  env = await launch();
  dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-a11y-"));
  pagedLog = writeLog("paged.xml", PAGED_EVENTS, () => "cmd.exe");
  memoryLog = writeLog("many-processes.xml", MEMORY_EVENTS, (n) => (n < 20 ? "cmd.exe" : "notepad.exe"));
});
after(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The msiexec.exe → cmd.exe event of the d1_each_listed_child case, as a template. */
const TEMPLATE = readFileSync(path.join(casesDir, "d1_each_listed_child", "input.log"), "utf8").split("\n")[1];

/** A log of `count` template events, each its own process; `child(n)` names the n-th's program. */
function writeLog(name, count, child) {
  const file = path.join(dir, name);
  const fd = openSync(file, "w");
  const guid = (id) => `{11111111-0000-0000-0000-${String(id).padStart(12, "0")}}`;
  for (let n = 0; n < count; n += 1) {
    const time = new Date(Date.UTC(2024, 4, 1, 10) + n * 1000).toISOString().replace(".000Z", "");
    const program = child(n);
    writeSync(fd, `${TEMPLATE
      .replace("2024-05-01T10:01:01.000000000Z", `${time}.000000000Z`).replace("2024-05-01 10:01:01.000", `${time.replace("T", " ")}.000`)
      .replace("<Data Name='ProcessId'>7001<", `<Data Name='ProcessId'>${100_000 + n}<`).replace(guid(7001), guid(1_000_000 + n))
      .replace("<Data Name='ParentProcessId'>4242<", `<Data Name='ParentProcessId'>${200_000 + n}<`).replace(guid(4242), guid(2_000_000 + n))
      .replaceAll("cmd.exe", program).replace("Cmd.Exe", program === "cmd.exe" ? "Cmd.Exe" : "Notepad.Exe")}\n`);
  }
  closeSync(fd);
  return file;
}

/** A fresh page at `width`, without the CSP (so axe can run), `storage` written before it loads. */
async function openPage(width, { query = "", storage = {} } = {}) {
  // No service worker: each of these many contexts would cache the page anew (offline.test.mjs tests that).
  const context = await env.browser.newContext({ bypassCSP: true, viewport: { width, height: 900 }, serviceWorkers: "block" });
  await context.route("**/*", (route) => (route.request().url().startsWith(`${env.server.origin}/`) ? route.continue() : route.abort()));
  await context.addInitScript((storage) => {
    for (const [key, value] of Object.entries(storage)) localStorage.setItem(key, value);
  }, storage);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("dialog", (dialog) => { problems.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
  await page.goto(`${env.server.origin}/index.html${query}`);
  await page.waitForSelector("body[data-ready=true]");
  return { context, page, problems };
}

/** axe's violations on the page as it is, one line each. */
async function violations(page) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(AXE);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}; ${v.nodes.length} node(s): ${v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(" | ")}`);
}

/** No axe violation, no horizontal scrolling, and the screenshot of `state` at `width`. */
async function check(page, state, width, screenshot = { fullPage: true }) {
  assert.deepEqual(await violations(page), [], `axe violations in state "${state}" at ${width} px`);
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
  assert.ok(scrollWidth <= clientWidth + 1, `state "${state}" at ${width} px scrolls sideways: ${scrollWidth} > ${clientWidth}`);
  await page.screenshot({ path: path.join(artifacts, `a11y-${state}-${width}.png`), ...screenshot });
}

const scrollTo = (page, selector) => page.locator(selector).first().evaluate((node) => node.scrollIntoView({ block: "start" }));

/** Waits until `locator`'s text matches `pattern` (a page turn is answered by the worker). */
async function waitForText(locator, pattern) {
  for (const started = Date.now(); !pattern.test(await locator.textContent());) {
    assert.ok(Date.now() - started < 10_000, `${await locator.textContent()} never matched ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const width of WIDTHS) {
  test(`at ${width} px: the empty page, the demo, an opened finding and a refused setting have no axe violation`, { timeout: 120_000 }, async () => {
    const session = await openPage(width);
    const { page } = session;
    await check(page, "empty", width);

    await page.click("#demo");
    await page.waitForSelector("body[data-state=done]");
    await check(page, "demo", width);

    await page.locator("button.open-finding").first().click();
    const finding = page.locator("#finding-detail .finding").first();
    await finding.locator("svg.tree g.node").first().waitFor();
    assert.ok(await finding.locator(".timeline").isVisible(), "the timeline is drawn");
    await scrollTo(page, "#finding-detail .finding[open] .part:has(svg.tree)"); // the tree, its node details and the timeline
    await check(page, "finding", width, {});
    assert.deepEqual(session.problems, []);
    await session.context.close();

    const refused = await openPage(width, { storage: { "sysmon-lens.suppression-rules": JSON.stringify([
      { detection_id: "*", field: "process_name", match: "regex", value: "cmd.*" },
      { detection_id: "*", field: "process_name", match: "equals", value: "notepad.exe" },
    ]) } });
    assert.match(await refused.page.locator("#notices").textContent(), /1 stored suppression rule was not valid and was ignored \(#1: match is not one of/, "the refused rule is told");
    await refused.page.click("#settings summary");
    await check(refused.page, "settings", width);
    assert.deepEqual(refused.problems, []);
    await refused.context.close();
  });

  test(`at ${width} px: paged findings and files, and the wasm memory limit message, have no axe violation`, { timeout: 300_000 }, async () => {
    const session = await openPage(width);
    const { page } = session;
    await page.setInputFiles("#file", pagedLog);
    await page.waitForSelector("body[data-state=done]");
    assert.match(await page.locator("#findings > nav.pager").first().textContent(), /^Showing 1–50 of 150/, "150 rows, each found by both readings");
    await scrollTo(page, "#findings");
    await check(page, "paged", width, {});
    assert.deepEqual(session.problems, []);
    await session.context.close();

    const limited = await openPage(width, { query: `?memory-limit-mib=${MEMORY_LIMIT_MIB}` });
    await limited.page.setInputFiles("#file", memoryLog);
    await limited.page.waitForSelector("body[data-state=done]", { timeout: 240_000 });
    assert.match(await limited.page.locator("#progress .memory-stop").textContent(), new RegExp(`past its limit of ${MEMORY_LIMIT_MIB} MiB`));
    await check(limited.page, "memory", width, {});
    assert.deepEqual(limited.problems, []);
    await limited.context.close();
  });
}

/** What has the keyboard focus, in a few words: tag, id, classes, text. */
const focused = (page) => page.evaluate(() => {
  const node = document.activeElement;
  return { tag: node.tagName.toLowerCase(), id: node.id, className: node.getAttribute("class") ?? "", parent: node.parentElement?.getAttribute("class") ?? "",
    text: node.textContent.trim().slice(0, 40) };
});

/** Presses `key` until the focus is on what `wanted` accepts, at most `limit` times; what was passed on the way. */
async function press(page, key, wanted, limit = 40) {
  const passed = [];
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press(key);
    const now = await focused(page);
    if (wanted(now)) return passed;
    passed.push(now);
  }
  assert.fail(`${key} × ${limit} never reached the element; passed ${JSON.stringify(passed)}`);
}

test("with the keyboard alone: the demo, a finding opened, a file chosen, the next page of findings, the exports", { timeout: 120_000 }, async () => {
  const session = await openPage(1024);
  const { page } = session;
  await page.keyboard.press("Tab");
  assert.equal((await focused(page)).id, "drop", "the drop zone comes first");
  await page.keyboard.press("Tab");
  assert.equal((await focused(page)).id, "choose", "then the file chooser's button");
  await page.keyboard.press("Tab");
  assert.equal((await focused(page)).id, "demo", "then the demo");
  await page.keyboard.press("Enter");
  await page.waitForSelector("body[data-state=done]");

  // Into the findings: the first row's detection, opened with Enter.
  await press(page, "Tab", (f) => f.tag === "button" && f.className === "open-finding", 80);
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector("button.open-finding")), true, "and it is the first row");
  await page.keyboard.press("Enter");
  const finding = page.locator("#finding-detail .finding").first();
  await finding.locator("svg.tree g.node").first().waitFor();
  assert.equal(await finding.getAttribute("open"), "", "Enter opens the finding");
  // A node of its tree takes the focus and tells its details with Enter.
  await press(page, "Tab", (f) => f.tag === "g" && f.className.includes("node"));
  await page.keyboard.press("Enter");
  assert.ok((await finding.locator(".node-detail").textContent()).length > 0, "the node's details are shown");

  // Back up to the file chooser's button, pressed with Space: the paged log.
  await press(page, "Shift+Tab", (f) => f.id === "choose", 200);
  const [chooser] = await Promise.all([page.waitForEvent("filechooser"), page.keyboard.press("Space")]);
  await chooser.setFiles(pagedLog); // analysed with the demo, as one data set
  await page.waitForFunction(() => document.querySelector("#findings > nav.pager")?.textContent.startsWith("Showing 1–50 of 15"));
  await page.waitForSelector("body[data-state=done]");

  // The table's Next, with Enter: the next page, the focus still on Next.
  const pager = page.locator("#findings > nav.pager").first();
  await press(page, "Tab", (f) => f.tag === "button" && f.className === "next", 200);
  assert.equal(await page.evaluate(() => document.activeElement === document.querySelector("#findings > nav.pager button.next")), true, "the table's Next");
  await page.keyboard.press("Enter");
  await waitForText(pager, /^Showing 51–100 of 15\d/);
  const after = await focused(page);
  assert.equal(after.tag, "button", `the focus stays in the pager, on ${JSON.stringify(after)}`);
  assert.equal(await page.evaluate(() => document.querySelector("#findings > nav.pager").contains(document.activeElement)), true, "the focus stays in the pager");
  assert.ok(await page.locator("tr.finding-row").count() >= 50);

  // Back to the exports: the Navigator layer first (walking backwards), then each.
  await press(page, "Shift+Tab", (f) => f.id === "export-navigator", 200);
  for (const id of ["export-html", "export-csv", "export-json"]) {
    await page.keyboard.press("Shift+Tab");
    assert.equal((await focused(page)).id, id);
  }
  const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
  assert.equal(download.suggestedFilename(), "sysmon-lens-report.json", "Enter on Report (JSON) exports it");
  assert.deepEqual(session.problems, []);
  await session.context.close();
});
