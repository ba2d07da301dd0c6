// A finding's detail at the full width of the page, as the findings table opens it:
// the process tree fitted to its box and moved by mouse, keyboard and buttons, node
// details on Enter and Space, a deep family (10 ancestors, 30 siblings) fitted whole,
// the timeline in absolute UTC with readable labels, and each event behind the finding
// as it was in the file, copied with one button. No picture is wider than its box at
// 1440 and 1024 px, nothing scrolls sideways at 700 px, and axe-core finds nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { artifacts, cli, nativeReport } from "./support.mjs";
import { launch } from "./browser.mjs";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const D1 = "e9d05aa2-32f0-411b-930c-5b8ca5c4fcee";
const D2 = "b0fd38c7-f71a-43a2-870e-f3ca06bcdd99";
const UTC_TIME = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/;

let env;
let dir;
let demoLines;
let report;
before(async () => {
  env = await launch();
  dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-detail-"));
  const demo = execFileSync(cli, ["demo"], { encoding: "utf8" });
  writeFileSync(path.join(dir, "demo.xml"), demo);
  demoLines = demo.split("\n");
  report = nativeReport(dir, ["demo.xml"]);
});
after(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

const spawnFinding = () => report.findings.find((f) => f.detection_id === D1 && f.mode === "as_published" && f.row.process_name === "cmd.exe");
const httpFinding = () => report.findings.find((f) => f.detection_id === D2 && f.mode === "hardened");

/** A page at `width` with the demo analysed; `bypassCSP` only where axe must run. */
async function openPage(width, { bypassCSP = false } = {}) {
  const context = await env.browser.newContext({ serviceWorkers: "block", bypassCSP, viewport: { width, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: env.server.origin });
  await context.route("**/*", (route) => (route.request().url().startsWith(`${env.server.origin}/`) ? route.continue() : route.abort()));
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (message) => message.type() === "error" && problems.push(`console: ${message.text()}`));
  await page.goto(`${env.server.origin}/index.html`);
  await page.waitForSelector("body[data-ready=true]");
  await page.click("#demo");
  await page.waitForSelector("body[data-state=done]");
  return { context, page, problems };
}

/** Shows `finding` opened at the full width of the page's main column, first in it. */
async function showDetail(page, finding) {
  await page.evaluate(async (finding) => {
    const { findingPanel } = await import("./detail.js");
    document.getElementById("detail-preview")?.remove();
    const section = document.createElement("section");
    section.id = "detail-preview";
    const heading = (level, text) => Object.assign(document.createElement(`h${level}`), { textContent: text });
    const panel = findingPanel({ index: 0, finding, rule: null });
    section.append(heading(2, "Finding detail"), heading(3, finding.detection), panel);
    document.querySelector("main").prepend(section);
    panel.querySelector("summary").click();
  }, finding);
  const detail = page.locator("#detail-preview .finding");
  await detail.locator("svg.tree g.node").first().waitFor();
  // Fitted once laid out (a ResizeObserver): wait for the first viewBox.
  await page.waitForFunction(() => document.querySelector("#detail-preview svg.tree")?.getAttribute("viewBox")?.split(" ").length === 4
    && document.querySelector("#detail-preview .zoom-readout")?.textContent !== "");
  return detail;
}

/** Where every node of the tree is against its view, and the picture against its box. */
const treeGeometry = (detail) => detail.evaluate((root) => {
  const view = root.querySelector(".pan-zoom-view");
  const box = view.getBoundingClientRect();
  const nodes = [...root.querySelectorAll("svg.tree g.node")].map((g) => g.getBoundingClientRect());
  const inside = nodes.filter((r) => r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1);
  return { nodes: nodes.length, inside: inside.length, svgWidth: root.querySelector("svg.tree").getBoundingClientRect().width,
    boxWidth: box.width, viewBox: root.querySelector("svg.tree").getAttribute("viewBox"), zoom: root.querySelector(".zoom-readout").textContent };
});

/** Every picture, record and table of the detail against the box it sits in. */
const overflowing = (detail) => detail.evaluate((root) => [...root.querySelectorAll("svg.tree, .pan-zoom, .timeline, .moment, pre.raw, table")]
  .filter((node) => node.getBoundingClientRect().right > root.getBoundingClientRect().right + 1 || node.scrollWidth > node.clientWidth + 1 && node.tagName !== "PRE")
  .map((node) => `${node.tagName.toLowerCase()}.${node.getAttribute("class")}: ${Math.round(node.getBoundingClientRect().width)} px`));

for (const width of [1440, 1024, 700]) {
  test(`at ${width} px: a finding's detail fits its box, the timeline reads in UTC, the events are as in the file`, { timeout: 120_000 }, async () => {
    const { context, page, problems } = await openPage(width);
    const finding = spawnFinding();
    const detail = await showDetail(page, finding);

    const tree = await treeGeometry(detail);
    assert.equal(tree.inside, tree.nodes, `every node is inside the tree's box on open: ${JSON.stringify(tree)}`);
    assert.ok(tree.svgWidth <= tree.boxWidth + 1, `the tree picture is no wider than its box: ${JSON.stringify(tree)}`);
    assert.deepEqual(await overflowing(detail), [], "nothing in the detail is wider than its box");
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
    assert.ok(scrollWidth <= clientWidth + 1, `the page scrolls sideways at ${width} px: ${scrollWidth} > ${clientWidth}`);

    // The timeline: absolute UTC times, labels whole, the finding's own moment marked.
    const times = await detail.locator(".timeline li.moment time").allTextContents();
    assert.ok(times.length >= 2, "process starts and connections on the timeline");
    for (const time of times) assert.match(time, UTC_TIME);
    assert.deepEqual(times, [...times].sort(), "in time order");
    const clipped = await detail.locator(".timeline .what, .timeline time").evaluateAll((nodes) => nodes.filter((n) => n.scrollWidth > n.clientWidth + 1).map((n) => n.textContent));
    assert.deepEqual(clipped, [], "no timeline label is clipped");
    const own = await detail.locator(".timeline li.moment.own").allTextContents();
    assert.equal(own.length, 1, own.join("\n"));
    assert.match(own[0], /this finding.*cmd\.exe \(pid 5120\) starts/);

    // Each event behind the finding is its record as written in the file.
    const raws = await detail.locator(".event pre.raw").allTextContents();
    assert.equal(raws.length, finding.events.length);
    finding.events.forEach((event, i) => {
      const line = Number(/^line (\d+)$/.exec(event.position)[1]);
      assert.equal(raws[i], demoLines[line - 1], `event ${i + 1} is line ${line} of the demo`);
    });

    await detail.locator(".part:has(svg.tree)").evaluate((node) => node.scrollIntoView({ block: "start" }));
    await page.screenshot({ path: path.join(artifacts, `detail-${width}.png`) });
    await detail.locator(".event").first().evaluate((node) => node.scrollIntoView({ block: "start" }));
    await page.screenshot({ path: path.join(artifacts, `detail-events-${width}.png`) });
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test("the tree pans and zooms by mouse, keyboard and buttons, and fits again", { timeout: 60_000 }, async () => {
  const { context, page, problems } = await openPage(1024);
  const detail = await showDetail(page, spawnFinding());
  const view = detail.locator(".pan-zoom-view");
  const viewBox = async () => (await detail.locator("svg.tree").getAttribute("viewBox")).split(" ").map(Number);
  const fitted = await viewBox();

  await detail.getByRole("button", { name: "Zoom in (Process tree)" }).click();
  const zoomedIn = await viewBox();
  assert.ok(zoomedIn[2] < fitted[2] - 1, `zoom in shows less: ${zoomedIn} vs ${fitted}`);
  await detail.getByRole("button", { name: "Zoom out (Process tree)" }).click();
  await detail.getByRole("button", { name: "Zoom out (Process tree)" }).click();
  assert.ok((await viewBox())[2] > fitted[2] + 1, "zoom out shows more");
  await detail.getByRole("button", { name: "Fit to box (Process tree)" }).click();
  assert.deepEqual(await viewBox(), fitted, "Fit shows the whole tree again");

  // Keyboard: the view takes the focus; arrows pan, + and - zoom, 0 fits.
  await view.focus();
  await page.keyboard.press("ArrowRight");
  assert.ok((await viewBox())[0] > fitted[0], "ArrowRight moves the view right");
  await page.keyboard.press("ArrowDown");
  assert.ok((await viewBox())[1] > fitted[1], "ArrowDown moves the view down");
  await page.keyboard.press("+");
  assert.ok((await viewBox())[2] < fitted[2], "+ zooms in");
  await page.keyboard.press("-");
  await page.keyboard.press("-");
  assert.ok((await viewBox())[2] > fitted[2], "- zooms out");
  await page.keyboard.press("0");
  assert.deepEqual(await viewBox(), fitted, "0 fits again");

  // Mouse: a drag pans (and selects nothing), the wheel zooms.
  await view.scrollIntoViewIfNeeded();
  const box = await view.boundingBox();
  const start = { x: box.x + 10, y: box.y + box.height - 10 };
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move(start.x - 80, start.y - 30, { steps: 5 });
  await page.mouse.up();
  const dragged = await viewBox();
  assert.ok(dragged[0] > fitted[0] && dragged[1] > fitted[1], `dragging left and up moves the view right and down: ${dragged}`);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -200);
  await page.waitForFunction((w) => Number(document.querySelector("#detail-preview svg.tree").getAttribute("viewBox").split(" ")[2]) < w, dragged[2]);
  await page.keyboard.press("0");

  // A node chosen with Space, then another with Enter: its details, and it is pressed.
  const msiexec = detail.locator('svg.tree g.node[data-pid="4242"]');
  await msiexec.focus();
  await page.keyboard.press("Space");
  assert.equal(await msiexec.getAttribute("aria-pressed"), "true");
  assert.match(await detail.locator(".node-detail").textContent(), /msiexec\.exe.*invoice_2025\.msi/s);
  const explorer = detail.locator('svg.tree g.node[data-pid="3120"]');
  await explorer.focus();
  await page.keyboard.press("Enter");
  assert.equal(await msiexec.getAttribute("aria-pressed"), "false");
  assert.match(await detail.locator(".node-detail").textContent(), /explorer\.exe/);
  assert.deepEqual(problems, []);
  await context.close();
});

/** A family 10 ancestors deep, the finding's process and its 30 siblings, each with a start time. */
function deepFamily() {
  const node = (id, role, name) => ({ id, role, name, image: `C:\\Windows\\System32\\${name}`, pid: String(1000 + id), host: "FIN-WS-042",
    user: "CORP\\ann", command_line: `${name} /flag`, time: new Date(Date.UTC(2026, 7, 11, 8, 0, id)).toISOString(), location: `family.xml, line ${id + 1}` });
  const nodes = [];
  const edges = [];
  for (let i = 0; i < 10; i += 1) {
    nodes.push(node(i, "ancestor", i === 9 ? "msiexec.exe" : `ancestor${i}.exe`));
    if (i) edges.push([i - 1, i]);
  }
  nodes.push(node(10, "process", "cmd.exe"));
  edges.push([9, 10]);
  for (let i = 0; i < 30; i += 1) {
    nodes.push(node(11 + i, "sibling", `sibling${i}.exe`));
    edges.push([9, 11 + i]);
  }
  return { nodes, edges, connections: [], notes: [] };
}

test("a deep family (10 ancestors, 30 siblings) fits its box on open at 1440, 1024 and 700 px", { timeout: 90_000 }, async () => {
  for (const width of [1440, 1024, 700]) {
    const { context, page, problems } = await openPage(width);
    const detail = await showDetail(page, { ...spawnFinding(), process_tree: deepFamily() });
    const tree = await treeGeometry(detail);
    assert.equal(tree.nodes, 41);
    assert.equal(tree.inside, 41, `every node inside the box at ${width} px: ${JSON.stringify(tree)}`);
    assert.ok(tree.svgWidth <= tree.boxWidth + 1);
    assert.deepEqual(await overflowing(detail), []);
    assert.equal(await detail.locator(".timeline li.moment").count(), 41);
    await detail.locator(".part:has(svg.tree)").evaluate((node) => node.scrollIntoView({ block: "start" }));
    await page.screenshot({ path: path.join(artifacts, `detail-deep-family-${width}.png`) });
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test("Copy gives the event as it was in the file, a field value, and the output row as TSV", { timeout: 60_000 }, async () => {
  const { context, page, problems } = await openPage(1440);
  const finding = httpFinding();
  const detail = await showDetail(page, finding);
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());

  const events = detail.locator(".event");
  assert.equal(await events.count(), finding.events.length);
  for (const [i, event] of finding.events.entries()) {
    const line = Number(/^line (\d+)$/.exec(event.position)[1]);
    const item = events.nth(i);
    if ((await item.getAttribute("open")) === null) await item.locator("summary").click();
    await item.getByRole("button", { name: /as it was in the file/ }).click();
    assert.equal(await clipboard(), demoLines[line - 1], `event ${i + 1}: line ${line} of the file`);
    assert.equal(await item.getByRole("button", { name: /as it was in the file/ }).textContent(), "Copied");
  }
  await events.first().getByRole("button", { name: /^Copy Image of event 1/ }).click();
  assert.equal(await clipboard(), finding.events[0].fields.Image);

  await detail.getByRole("button", { name: /as TSV/ }).click();
  // Two lines of tab-separated fields, one quoted (quotes doubled) when it holds a quote, tab or line end.
  const tsv = await clipboard();
  const fields = [...tsv.matchAll(/("(?:[^"]|"")*"|[^\t\n]*)(\t|\n)/g)].map(([, field, end]) =>
    ({ text: field.startsWith('"') ? field.slice(1, -1).replaceAll('""', '"') : field, end }));
  const names = Object.keys(finding.row);
  assert.equal(fields.length, 2 * names.length, tsv);
  assert.deepEqual(fields.slice(0, names.length).map((f) => f.text), names);
  assert.deepEqual(fields.slice(names.length).map((f) => f.text), Object.values(finding.row).map((v) => (typeof v === "string" ? v : JSON.stringify(v))));
  assert.deepEqual(fields.map((f) => f.end).join(""), `${"\t".repeat(names.length - 1)}\n${"\t".repeat(names.length - 1)}\n`);
  assert.ok(tsv.includes('"msiexec.exe /i ""C:\\Users'), "a value with quotes is quoted");
  assert.deepEqual(problems, []);
  await context.close();
});

test("with the keyboard alone: open a finding, move through its tree, copy an event", { timeout: 60_000 }, async () => {
  const { context, page, problems } = await openPage(1024);
  const focused = () => page.evaluate(() => {
    const node = document.activeElement;
    return { tag: node.tagName.toLowerCase(), className: node.getAttribute("class") ?? "", label: node.getAttribute("aria-label") ?? "",
      parent: node.parentElement?.getAttribute("class") ?? "", text: node.textContent.trim().slice(0, 60) };
  });
  const press = async (key, wanted, limit = 80) => {
    for (let i = 0; i < limit; i += 1) {
      await page.keyboard.press(key);
      if (wanted(await focused())) return;
    }
    assert.fail(`${key} × ${limit} never reached the element`);
  };
  await press("Tab", (f) => f.tag === "button" && f.className.includes("open-finding"));
  await page.keyboard.press("Enter");
  const finding = page.locator("#finding-detail .finding[open]").first();
  await finding.locator("svg.tree g.node").first().waitFor();

  await press("Tab", (f) => f.className.includes("pan-zoom-view"));
  await page.keyboard.press("+");
  assert.equal(await finding.locator(".zoom-readout").textContent() === "", false);
  await page.keyboard.press("0");
  const nodes = [];
  await press("Tab", (f) => (f.tag === "g" && nodes.push(f.label), f.tag === "g" && f.label.startsWith("msiexec.exe")));
  assert.ok(nodes.length >= 2, `Tab moves from node to node: ${nodes.join(" | ")}`);
  await page.keyboard.press("Enter");
  assert.match(await finding.locator(".node-detail").textContent(), /msiexec\.exe/);

  await press("Tab", (f) => f.label.includes("as it was in the file"));
  await page.keyboard.press("Enter");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(copied, /^<Event xmlns=.*<\/Event>$/s);
  assert.equal(copied, await finding.locator(".event pre.raw").first().textContent());
  assert.deepEqual(problems, []);
  await context.close();
});

test("axe-core finds no violation with a finding's detail open at 1440, 1024 and 700 px", { timeout: 120_000 }, async () => {
  for (const width of [1440, 1024, 700]) {
    const { context, page, problems } = await openPage(width, { bypassCSP: true });
    // Opened from the findings table, where an analyst opens it.
    await page.locator(`tr.finding-row[data-detection-id="${D2}"] button.open-finding`).first().click();
    const detail = page.locator("#finding-detail .finding[open]").first();
    await detail.locator('svg.tree g.node[data-role="process"]').first().click();
    await page.evaluate(AXE);
    const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
    assert.deepEqual(violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(" | ")}`), [], `at ${width} px`);
    assert.deepEqual(problems, []);
    await context.close();
  }
});
