// Hostile input on the page: settings another page or a crafted rules file left in
// local storage, a wildcard rule that would backtrack for minutes, and process trees
// whose parent links loop. The page must start, analyze and render every finding,
// with the main thread never blocked long. The checks of settings.js are also tried
// directly in Node (the module has no DOM dependency).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { artifacts, coreDetections, www } from "./support.mjs";
import { launch, drop } from "./browser.mjs";

const KEYS = {
  programs: "sysmon-lens.discovery-programs",
  rules: "sysmon-lens.suppression-rules",
  threshold: "sysmon-lens.risk-threshold",
};
const CATASTROPHIC = `${"*a".repeat(22)}*b`;
const MSIEXEC = "C:\\Windows\\System32\\msiexec.exe";

let env;
before(async () => { env = await launch(); });
after(async () => { await env?.close(); });

/** A Sysmon process creation (EventID 1) as one line of Splunk's XmlWinEventLog. */
function processCreate({ record, time, guid, pid, image, original, commandLine, parentGuid, parentPid, parentImage }) {
  const data = (name, value) => (value === undefined ? "" : `<Data Name='${name}'>${value}</Data>`);
  return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"
    + "<Provider Name='Microsoft-Windows-Sysmon' Guid='{5770385F-C22A-43E0-BF4C-06F5698FFBD9}'/><EventID>1</EventID>"
    + `<Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime='${time}'/>`
    + `<EventRecordID>${record}</EventRecordID><Correlation/><Execution ProcessID='2468' ThreadID='3128'/>`
    + "<Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WS-01</Computer><Security UserID='S-1-5-18'/></System><EventData>"
    + data("RuleName", "-") + data("UtcTime", time.replace("T", " ").replace("Z", "")) + data("ProcessGuid", guid) + data("ProcessId", pid)
    + data("Image", image) + data("OriginalFileName", original) + data("CommandLine", commandLine)
    + data("CurrentDirectory", "C:\\Windows\\system32\\") + data("User", "CORP\\alice") + data("IntegrityLevel", "High")
    + data("ParentProcessGuid", parentGuid) + data("ParentProcessId", parentPid) + data("ParentImage", parentImage)
    + "</EventData></Event>\n";
}

const guid = (n) => `{11111111-0000-0000-0000-${String(n).padStart(12, "0")}}`;

/** Opens the page with `storage` written to its local storage before any script of the page runs. */
async function openWithStorage(storage = {}) {
  const context = await env.browser.newContext({ serviceWorkers: "block", acceptDownloads: true, viewport: { width: 1440, height: 900 } });
  await context.route("**/*", (route) =>
    (route.request().url().startsWith(`${env.server.origin}/`) ? route.continue() : route.abort()));
  await context.addInitScript((entries) => {
    for (const [key, value] of entries) localStorage.setItem(key, value);
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
    }).observe({ type: "longtask", buffered: true });
  }, Object.entries(storage));
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("dialog", (dialog) => { problems.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
  await page.goto(`${env.server.origin}/index.html`);
  await page.waitForSelector("body[data-ready=true]", { timeout: 20_000 });
  return { context, page, problems };
}

const settingsInPage = (page, call) => page.evaluate(async (call) => {
  const settings = await import("./settings.js");
  return settings[call]();
}, call);

// (a) Corrupt local storage: the page starts and the demo is analyzed as with none.
const corruptStorage = {
  "values that are not lists, with a __proto__ key": {
    [KEYS.programs]: '{"__proto__": {"polluted": true}, "file_name": "cmd.exe"}',
    [KEYS.rules]: '{"__proto__": {"polluted": true}}',
    [KEYS.threshold]: '"a hundred"',
  },
  "lists of the wrong types": {
    [KEYS.programs]: '[1, null, {"file_name": 5, "original_file_name": []}, "cmd.exe"]',
    [KEYS.rules]: '[{"detection_id": 1}, null, {"field": "x", "match": "regex", "value": "a"}, [1, 2]]',
    [KEYS.threshold]: "-5",
  },
  "JSON null, not JSON at all, infinity": {
    [KEYS.programs]: "null",
    [KEYS.rules]: "{not json",
    [KEYS.threshold]: "1e999",
  },
  "a 1 MB string in each": {
    [KEYS.programs]: "x".repeat(1 << 20),
    [KEYS.rules]: JSON.stringify([{ detection_id: "*", field: "process", match: "contains", value: "y".repeat(1 << 20) }]),
    [KEYS.threshold]: JSON.stringify("9".repeat(1 << 20)),
  },
};

for (const [name, storage] of Object.entries(corruptStorage)) {
  test(`corrupt local storage (${name}): the page starts and the demo shows its findings`, async () => {
    const { context, page, problems } = await openWithStorage(storage);
    await page.click("#demo");
    await page.waitForSelector("body[data-state=done]", { timeout: 20_000 });
    const published = page.locator('tr.finding-row[data-detection-id="e9d05aa2-32f0-411b-930c-5b8ca5c4fcee"][data-modes~=as_published]');
    assert.equal(await published.count(), 2, "the demo's two published discovery findings");
    assert.equal(await page.locator("tr.finding-row.suppressed").count(), 0, "no stored rule was applied");
    assert.equal(await page.locator("#rules li").count(), 0);
    assert.equal(await page.locator("#threshold").inputValue(), "100");
    assert.equal(await page.evaluate(() => ({}).polluted), undefined, "no prototype was polluted");
    const messages = await settingsInPage(page, "settingsProblems");
    assert.equal(messages.length, 3, messages.join("\n"));
    assert.deepEqual(problems, []);
    await context.close();
  });
}

// (b) A catastrophic wildcard rule against a 50,000-character command line.
test("a catastrophic wildcard rule in storage: the report renders at once, no long task", async () => {
  const rule = { detection_id: "*", field: "process", match: "wildcard", value: CATASTROPHIC };
  const { context, page, problems } = await openWithStorage({ [KEYS.rules]: JSON.stringify([rule]) });
  const log = processCreate({ record: 1, time: "2024-05-01T10:00:00.000Z", guid: guid(4242), pid: 4242, image: MSIEXEC, original: "msiexec.exe",
    commandLine: "msiexec.exe /i x.msi", parentGuid: guid(1), parentPid: 1, parentImage: "C:\\Windows\\explorer.exe" })
    + processCreate({ record: 2, time: "2024-05-01T10:00:01.000Z", guid: guid(7001), pid: 7001, image: "C:\\Windows\\System32\\cmd.exe",
      original: "Cmd.Exe", commandLine: "a".repeat(50_000), parentGuid: guid(4242), parentPid: 4242, parentImage: MSIEXEC });
  // The longest main-thread task from `since` on, once the observer has been told of every task.
  const longestSince = async (since) => {
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 250)));
    return page.evaluate((since) => Math.max(0, ...window.__longTasks.filter((t) => t.start >= since).map((t) => t.duration)), since);
  };
  const now = () => page.evaluate(() => performance.now());
  const startedAt = await now();
  const started = Date.now();
  await drop(page, [{ name: "long-command-line.log", bytes: Buffer.from(log) }]);
  const elapsed = Date.now() - started;
  const longest = [await longestSince(startedAt)];
  // Each change of "show suppressed" renders the report again, matching every finding against the rule.
  await page.click("#settings > summary");
  for (let i = 0; i < 3; i += 1) {
    await page.evaluate(() => { document.querySelector("tr.finding-row").dataset.old = "yes"; });
    const since = await now();
    await page.click("#show-suppressed");
    longest.push(await longestSince(since));
    assert.equal(await page.locator("tr.finding-row[data-old]").count(), 0, "the findings were rendered anew");
  }
  const figures = longest.map((ms) => `${ms.toFixed(0)} ms`).join(", ");
  console.log(`# catastrophic rule, 50,000-character command line: report rendered in ${elapsed} ms; longest main-thread task on first render and 3 re-renders: ${figures}`);
  const findings = page.locator("tr.finding-row");
  assert.ok(await findings.count() >= 1, "the msiexec → cmd.exe finding is shown");
  assert.equal(await page.locator("tr.finding-row.suppressed").count(), 0, "the rule does not match: the command line has no b");
  assert.match(await page.locator("#rules").textContent(), /process wildcard \*a\*a/);
  assert.ok(elapsed < 3000, `rendered in ${elapsed} ms`);
  // A matcher that backtracks blocks every render; a busy machine slows some of them.
  assert.ok(Math.min(...longest) < 100, `longest main-thread task per render: ${figures}`);
  // The observer does see a task that long: block the main thread 150 ms in a task of the page's own and look.
  await page.evaluate(() => setTimeout(() => { const until = performance.now() + 150; while (performance.now() < until); }));
  await page.waitForFunction(() => window.__longTasks.some((t) => t.duration >= 150));
  assert.deepEqual(problems, []);
  await context.close();
});

// (c) The checks, in Node.
const settings = await import(pathToFileURL(path.join(www, "settings.js")).href);
settings.setDetections(await coreDetections()); // as the page's worker gives them when ready

/** settings.js over an in-memory local storage holding `entries`. */
function withStorage(entries, run) {
  const store = new Map(Object.entries(entries));
  globalThis.localStorage = {
    getItem: (key) => store.get(key) ?? null,
    setItem: (key, value) => store.set(key, String(value)),
    removeItem: (key) => store.delete(key),
  };
  try {
    return run(store);
  } finally {
    delete globalThis.localStorage;
  }
}

test("stored settings: valid parts kept, the rest refused with a message", () => {
  const good = { detection_id: "*", field: "process", match: "wildcard", value: "*whoami*" };
  withStorage({
    [KEYS.rules]: JSON.stringify([good, { ...good, match: "regex" }, { ...good, value: "v".repeat(5000) }, { ...good, extra: 1 }, 7]),
    [KEYS.programs]: JSON.stringify([{ file_name: "nltest.exe", original_file_name: "nltestrk.exe", __proto__: null }, { file_name: "" }]),
    [KEYS.threshold]: "250",
  }, () => {
    assert.deepEqual(settings.rules(), [good, good], "extra keys are dropped, the rule kept");
    assert.deepEqual(settings.programs(), [{ file_name: "nltest.exe", original_file_name: "nltestrk.exe" }]);
    assert.equal(settings.threshold(), 250);
    assert.deepEqual(settings.settingsProblems(), [
      "1 stored discovery program was not valid and was ignored (#2: file_name is not a text of 1 to 260 characters).",
      "3 stored suppression rules were not valid and were ignored (#2: match is not one of equals, contains, wildcard; "
        + "#3: value is not a text of 1 to 2,048 characters; #5: not an object).",
    ]);
  });
  withStorage({ [KEYS.rules]: JSON.stringify(Array(300).fill(good)), [KEYS.threshold]: "0" }, () => {
    assert.equal(settings.rules().length, 256);
    assert.equal(settings.threshold(), settings.DEFAULT_THRESHOLD);
    assert.deepEqual(settings.settingsProblems(), [
      "44 stored suppression rules were not valid and were ignored (more than 256 in all).",
      "The stored risk threshold is not a positive whole number; 100 is used.",
    ]);
  });
  withStorage({ [KEYS.rules]: '{"__proto__": {"polluted": 1}}' }, () => {
    assert.deepEqual(settings.rules(), []);
    assert.equal(({}).polluted, undefined);
    assert.deepEqual(settings.settingsProblems(), ["The stored suppression rules are not a list and were ignored."]);
  });
});

test("storing settings keeps only what is valid and says what was refused", () => {
  withStorage({}, (store) => {
    const problems = settings.setRules([{ detection_id: "*", field: "dest", match: "equals", value: "WS-01" }, { field: "x" }]);
    assert.equal(problems.length, 1);
    assert.deepEqual(JSON.parse(store.get(KEYS.rules)), [{ detection_id: "*", field: "dest", match: "equals", value: "WS-01" }]);
    assert.deepEqual(settings.setThreshold(Number.NaN), ["The risk threshold is not a positive whole number; 100 is used."]);
    assert.equal(store.has(KEYS.threshold), false);
    assert.deepEqual(settings.setPrograms(null), []);
    assert.equal(store.has(KEYS.programs), false);
  });
});

test("an imported rules file is checked the same way", () => {
  const { rules, problems } = settings.checkRules([{ detection_id: "*", field: "dest", match: "equals", value: "a" }, null], "imported rule");
  assert.equal(rules.length, 1);
  assert.deepEqual(problems, ["1 imported rule was not valid and was ignored (#2: not an object)."]);
  assert.equal(settings.validRules([null]), false);
  assert.deepEqual(settings.checkRules("rules", "imported rule"), { rules: [], problems: ["The imported rules are not a list and were ignored."] });
});

test("a rule naming a field no finding has is reported", () => {
  const list = [
    { detection_id: "*", field: "process", match: "contains", value: "x" },
    { detection_id: "*", field: "CommandLine", match: "contains", value: "x" },
  ];
  assert.deepEqual(settings.unknownFieldRules(list, ["dest", "process"]), [
    'The suppression rule "CommandLine contains x" names the field CommandLine, which no finding has; it suppresses nothing.',
  ]);
  assert.deepEqual(settings.unknownFieldRules(list, []), [], "with no findings there is nothing to compare with");
});

// (d) Process trees whose parent links loop.
const cycles = {
  "by ParentProcessGuid": (n) => ({ guid: guid(n), parentGuid: guid(n === 200 ? 100 : 200) }),
  "by parent pid at the same time": () => ({}),
};

for (const [name, ids] of Object.entries(cycles)) {
  test(`a cyclic process tree (${name}): every finding renders, with its tree`, async () => {
    // powershell.exe (100) and msiexec.exe (200) each name the other as parent; cmd.exe (300) is msiexec's child.
    const time = "2024-05-01T10:00:00.000Z";
    const log = processCreate({ record: 1, time, pid: 100, image: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
      original: "PowerShell.EXE", commandLine: "powershell.exe -nop", parentPid: 200, parentImage: MSIEXEC, ...ids(100) })
      + processCreate({ record: 2, time, pid: 200, image: MSIEXEC, original: "msiexec.exe", commandLine: "msiexec.exe /i loop.msi",
        parentPid: 100, parentImage: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", ...ids(200) })
      + processCreate({ record: 3, time: "2024-05-01T10:00:01.000Z", pid: 300, image: "C:\\Windows\\System32\\cmd.exe", original: "Cmd.Exe",
        commandLine: "cmd.exe /c whoami", parentPid: 200, parentImage: MSIEXEC, ...ids(300) });
    const { context, page, problems } = await openWithStorage();
    await drop(page, [{ name: "cycle.log", bytes: Buffer.from(log) }]);
    assert.equal(await page.evaluate(() => document.body.dataset.state), "done");

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
    const report = JSON.parse(readFileSync(await download.path(), "utf8"));
    assert.ok(report.findings.length >= 2, "the cmd.exe and powershell.exe children of msiexec.exe");
    const rows = page.locator("tr.finding-row");
    /** Findings in the table: a row both readings find holds two. */
    const listed = () => rows.evaluateAll((trs) => trs.reduce((n, tr) => n + tr.dataset.modes.split(" ").length, 0));
    assert.equal(await listed(), report.findings.length, "every finding is rendered");
    const cyclic = report.findings.filter((f) => hasCycle(f.process_tree)).length;
    console.log(`# cycle ${name}: ${report.findings.length} findings, ${cyclic} with a cyclic tree in the report`);

    for (let i = 0; i < await rows.count(); i += 1) {
      await rows.nth(i).locator("button.open-finding").click();
      const opened = page.locator("#finding-detail .finding");
      for (let j = 0; j < await opened.count(); j += 1) {
        await opened.nth(j).evaluate((details) => { details.open = true; });
        await opened.nth(j).locator("svg.tree g.node").first().waitFor();
      }
    }
    /** The open finding, as published, of the row msiexec.exe → cmd.exe. */
    const openCmd = async () => {
      await page.locator("tr.finding-row[data-modes~=as_published]", { hasText: "→ cmd.exe" }).locator("button.open-finding").click();
      return page.locator("#finding-detail .finding[data-mode=as_published]");
    };
    const cmd = await openCmd();
    const names = await cmd.locator("svg.tree g.node").evaluateAll((gs) => gs.map((g) => g.dataset.name));
    assert.ok(names.includes("msiexec.exe") && names.includes("cmd.exe"), names.join(", "));
    assert.equal(new Set(names).size, names.length, "each process is drawn once");
    await cmd.locator('svg.tree g.node[data-name="msiexec.exe"]').click();
    assert.match(await cmd.locator(".node-detail").textContent(), /loop\.msi/);

    // The renderer on its own, whatever the core emits: the same report with every tree's
    // parent links closed into a loop and a node repeated, rendered as the page renders it.
    const looped = { ...report, findings: report.findings.map((f) => ({ ...f, process_tree: withLoop(f.process_tree) })) };
    await page.evaluate(async (report) => {
      const { renderReport } = await import("./render.js");
      renderReport(report, { rules: [], threshold: 100, showSuppressed: false });
    }, looped);
    await page.waitForFunction(() => !document.querySelector("#finding-detail .finding"));
    assert.equal(await listed(), report.findings.length, "every finding is rendered");
    const loopedCmd = await openCmd();
    const drawnNames = await loopedCmd.locator("svg.tree g.node").evaluateAll((gs) => gs.map((g) => g.dataset.name));
    assert.deepEqual(drawnNames, names, "the same processes, each drawn once");
    assert.equal(await loopedCmd.locator("svg.tree .edge.loop").count(), 1, "the link closing the loop is drawn dashed");
    assert.match(await loopedCmd.locator(".tree-picture .notes").textContent(), /1 process listed more than once, drawn once/);
    if (name === "by ParentProcessGuid") {
      await loopedCmd.scrollIntoViewIfNeeded();
      await loopedCmd.screenshot({ path: path.join(artifacts, "hostile-cyclic-tree.png") });
    }
    assert.deepEqual(problems, []);
    await context.close();
  });
}

/** `tree` with an edge from its finding's process back up to its first node, and that node listed twice. */
function withLoop(tree) {
  const subject = tree.nodes.find((n) => n.role === "process");
  const top = tree.nodes[0];
  if (!subject || subject.id === top.id) return tree;
  return { ...tree, nodes: [...tree.nodes, top], edges: [...tree.edges, [subject.id, top.id]] };
}

/** Whether a tree's edges, followed from parent to child, ever come back to a node. */
function hasCycle(tree) {
  const children = new Map();
  for (const [from, to] of tree.edges) children.set(from, [...(children.get(from) ?? []), to]);
  const state = new Map();
  const stack = tree.nodes.map((n) => [n.id, false]);
  while (stack.length) {
    const [id, leaving] = stack.pop();
    if (leaving) { state.set(id, "done"); continue; }
    if (state.get(id) === "open") return true;
    if (state.get(id) === "done") continue;
    state.set(id, "open");
    stack.push([id, true]);
    for (const child of children.get(id) ?? []) {
      if (state.get(child) === "open") return true;
      if (!state.has(child)) stack.push([child, false]);
    }
  }
  return false;
}

test("the tree renderer draws any JSON: loops, repeats, garbage and 10,000 nodes", async () => {
  const { context, page, problems } = await openWithStorage();
  const drawn = await page.evaluate(async () => {
    const { treePicture } = await import("./tree.js");
    const { timelinePicture } = await import("./timeline.js");
    const node = (id, extra = {}) => ({ id, role: "child", name: `p${id}.exe`, pid: String(id), host: "H", time: "2024-05-01T10:00:00Z", ...extra });
    const trees = {
      loop: { nodes: [node(0), node(1), node(2)], edges: [[0, 1], [1, 2], [2, 0], [1, 1]], connections: [] },
      repeats: { nodes: [node(0), node(0), node(1), node(1)], edges: [[0, 1], [0, 1], [1, 0]], connections: [{ node: 1 }, { node: 9 }] },
      garbage: { nodes: [null, 7, { id: { toString: 1 } }, node(1, { name: { toString: 1 }, role: "x y" }), node(2)],
        edges: [null, [1], [1, 2, 3], ["1", 2], [1, 99], [1, 2]], connections: "none" },
      notATree: "tree",
      big: { nodes: Array.from({ length: 10_000 }, (_, i) => node(i)), edges: Array.from({ length: 9_999 }, (_, i) => [i, i + 1]),
        connections: Array.from({ length: 10_000 }, (_, i) => ({ node: i % 100, time: "2024-05-01T10:00:01Z", dest_ip: "10.0.0.1" })) },
    };
    const out = {};
    for (const [name, tree] of Object.entries(trees)) {
      const started = performance.now();
      const picture = treePicture(tree, () => {});
      const timeline = timelinePicture(tree);
      out[name] = {
        ms: performance.now() - started,
        nodes: picture.querySelectorAll("g.node").length,
        edges: picture.querySelectorAll(".edge").length,
        loops: picture.querySelectorAll(".edge.loop").length,
        notes: [...picture.querySelectorAll(".notes li")].map((li) => li.textContent),
        points: timeline.querySelectorAll("li.moment").length,
        timelineNotes: [...timeline.querySelectorAll(".note")].map((t) => t.textContent),
      };
    }
    return out;
  });
  assert.deepEqual(drawn.loop.notes, ["1 dashed link: a parent link that does not lead down (a cycle, or a second parent)"]);
  assert.deepEqual([drawn.loop.nodes, drawn.loop.edges, drawn.loop.loops], [3, 3, 1]);
  assert.deepEqual([drawn.repeats.nodes, drawn.repeats.edges, drawn.repeats.loops], [2, 2, 1]);
  assert.ok(drawn.repeats.notes.includes("2 processes listed more than once, drawn once"), drawn.repeats.notes.join("\n"));
  assert.deepEqual([drawn.garbage.nodes, drawn.garbage.edges], [2, 1]);
  assert.ok(drawn.garbage.notes.includes("3 malformed nodes left out"), drawn.garbage.notes.join("\n"));
  assert.equal(drawn.notATree.nodes, 0);
  assert.equal(drawn.big.nodes, 64);
  assert.deepEqual(drawn.big.notes, ["… 9,936 more processes not drawn"]);
  assert.equal(drawn.big.points, 200);
  assert.deepEqual(drawn.big.timelineNotes, ["… 1,912 later events not drawn"], "64 starts and 32 connections for each of the 64 nodes drawn, 200 of them on the axis");
  console.log(`# 10,000-node tree drawn (64 nodes) in ${drawn.big.ms.toFixed(1)} ms`);
  assert.ok(drawn.big.ms < 500, `${drawn.big.ms} ms: bounded work, not one step per node drawn`);
  assert.deepEqual(problems, []);
  await context.close();
});
