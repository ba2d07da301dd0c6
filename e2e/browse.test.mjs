// Processes and connections beyond the findings: the demo lists every process creation
// (EID 1) and connection (EID 3) the summary counts; a column sorts both ways, the filter
// narrows, a row's tree opens, all by keyboard; no axe violation and no sideways page
// scroll at 1440, 1024 and 700 px, with a screenshot of each.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { artifacts } from "./support.mjs";
import { launch } from "./browser.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

/** A fresh page at `width` without the CSP (so axe can run), the demo analysed. */
async function demoPage(width) {
  const context = await env.browser.newContext({ bypassCSP: true, viewport: { width, height: 900 }, serviceWorkers: "block" });
  await context.route("**/*", (route) => (route.request().url().startsWith(`${env.server.origin}/`) ? route.continue() : route.abort()));
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  await page.goto(`${env.server.origin}/index.html`);
  await page.waitForSelector("body[data-ready=true]");
  await page.click("#demo");
  await page.waitForSelector("body[data-state=done]");
  await page.locator("#browse table tbody tr").first().waitFor();
  return { context, page, problems };
}

/** The summary's count of Sysmon events with this EventID. */
async function summaryCount(page, id) {
  const text = await page.locator("#summary").textContent();
  const found = text.match(new RegExp(`EID ${id}: (\\d+)`));
  assert.ok(found, `the summary counts EID ${id}`);
  return Number(found[1]);
}

async function waitForText(locator, pattern) {
  for (const started = Date.now(); !pattern.test(await locator.textContent());) {
    assert.ok(Date.now() - started < 10_000, `${await locator.textContent()} never matched ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const status = (page) => page.locator("#browse .browse-status");
const column = (page, n) => page.locator(`#browse tbody tr td:nth-child(${n})`).allTextContents();

async function check(page, state, width) {
  await page.evaluate(AXE);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  assert.deepEqual(violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(" | ")}`), [], `axe in "${state}" at ${width} px`);
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
  assert.ok(scrollWidth <= clientWidth + 1, `"${state}" at ${width} px scrolls sideways: ${scrollWidth} > ${clientWidth}`);
  await page.locator("#browse").screenshot({ path: path.join(artifacts, `browse-${state}-${width}.png`) });
}

test("the demo lists every process creation and connection the summary counts, sorts, filters and opens a tree", { timeout: 120_000 }, async () => {
  const { context, page, problems } = await demoPage(1440);
  const processes = await summaryCount(page, 1);
  assert.ok(processes > 0);
  await waitForText(status(page), new RegExp(`of ${processes.toLocaleString("en")} process creations\\.$`));

  // Sorted by image, both ways.
  await page.click("#browse th:nth-child(3) button");
  await waitForText(page.locator("#browse th:nth-child(3)"), /Image/);
  await page.waitForFunction(() => document.querySelector("#browse th:nth-child(3)").getAttribute("aria-sort") === "ascending");
  const images = await column(page, 3);
  const folded = (list) => list.map((s) => s.toLowerCase());
  assert.deepEqual(folded(images), folded(images).toSorted(), "ascending by image");
  await page.click("#browse th:nth-child(3) button");
  await page.waitForFunction(() => document.querySelector("#browse th:nth-child(3)").getAttribute("aria-sort") === "descending");
  const descending = await column(page, 3);
  assert.deepEqual(folded(descending), folded(descending).toSorted().reverse(), "descending by image");

  // The filter, ignoring case.
  await page.fill("#browse-filter", "CMD.EXE");
  await waitForText(status(page), /matching \(of/);
  const rows = await page.locator("#browse tbody tr").allTextContents();
  assert.ok(rows.length > 0 && rows.length < processes, `${rows.length} of ${processes} rows hold cmd.exe`);
  for (const row of rows) assert.match(row.toLowerCase(), /cmd\.exe/);
  await page.fill("#browse-filter", "no such text anywhere");
  await waitForText(status(page), /^No process creations match/);
  await page.fill("#browse-filter", "");
  await waitForText(status(page), /process creations\.$/);

  // Connections.
  const connections = await summaryCount(page, 3);
  await page.click("#browse .browse-lists button:has-text('Connections')");
  await waitForText(status(page), new RegExp(`of ${connections.toLocaleString("en")} connections\\.$`));
  assert.ok((await column(page, 7)).every((text) => /:\d+/.test(text)), "each connection has its destination and port");

  // A row's tree.
  await page.locator("#browse button.open-tree").first().click();
  await page.locator("#browse .browse-tree svg.tree g.node").first().waitFor();
  const subject = await page.locator("#browse .browse-tree svg.tree g.node.process").getAttribute("aria-label");
  assert.match(subject, /\) this process\b/, "a process browsed is not a finding");
  assert.deepEqual(problems, []);
  await context.close();
});

test("the browser is used by keyboard alone", { timeout: 120_000 }, async () => {
  const { context, page, problems } = await demoPage(1024);
  await page.locator("#browse .browse-lists button").first().focus();
  await page.keyboard.press("Tab"); // Connections
  await page.keyboard.press("Enter");
  await waitForText(status(page), /connections\.$/);
  await page.keyboard.press("Tab"); // the filter
  await page.keyboard.type("443");
  await waitForText(status(page), /matching|No connections/);
  await page.keyboard.press("Tab"); // the table's scroll region
  await page.keyboard.press("Tab"); // the first sort button
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Time (UTC)");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.querySelector("#browse th:first-child").getAttribute("aria-sort") === "descending");
  const open = page.locator("#browse button.open-tree").first();
  await open.focus();
  await page.keyboard.press("Space");
  await page.locator("#browse .browse-tree svg.tree g.node").first().waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.tagName), "H3", "the tree's heading takes the focus");
  assert.deepEqual(problems, []);
  await context.close();
});

for (const width of [1440, 1024, 700]) {
  test(`at ${width} px: the list and an open tree have no axe violation and no sideways scroll`, { timeout: 120_000 }, async () => {
    const { context, page, problems } = await demoPage(width);
    await check(page, "list", width);
    await page.locator("#browse button.open-tree").first().click();
    await page.locator("#browse .browse-tree svg.tree g.node").first().waitFor();
    await check(page, "tree", width);
    assert.deepEqual(problems, []);
    await context.close();
  });
}
