// Wires the page: files in (drop, picker or the demo sample), one module worker running
// the wasm core, per-file progress, settings, the rendered report and its exports. The
// worker keeps the finished report; a small one also comes to the page whole, in parts,
// while of a large one the page asks the worker for each page it shows. Exports are
// built by the worker.
import { el, count, reason } from "./dom.js";
import { renderReport, modelSource } from "./render.js";
import * as settings from "./settings.js";
import { download, htmlReport } from "./exports.js";
import * as caseState from "./case-state.js";
import { showBrowse } from "./browse.js";

const $ = (id) => document.getElementById(id);
const dropZone = $("drop");
const fileInput = $("file");
const progress = $("progress");
const notices = $("notices");
const results = $("results");
const exportButtons = [...document.querySelectorAll(".exports button")];
/** The worker's script: worker.js beside this page; in the single file, which has nothing beside
 * it, the bundled worker the page holds (scripts/single-file.mjs), as a Blob URL. */
const inlineWorker = document.getElementById("worker-source");
const workerScript = inlineWorker ? new Blob([inlineWorker.textContent], { type: "text/javascript" }) : null;
const WORKER_URL = workerScript ? URL.createObjectURL(workerScript) : new URL("./worker.js", import.meta.url).href;
/** Keeps the served page for use offline (see sw.js). */
const SERVICE_WORKER_URL = new URL("./sw.js", import.meta.url).href;
const WASM32_GIB = 4;
/** `?memory-limit-mib=N` lowers the wasm memory at which an analysis stops and keeps what it read. */
const MEMORY_LIMIT_MIB = Number(new URLSearchParams(location.search).get("memory-limit-mib")) || null;
/** Workers reading one large log (`?workers=1` reads every file with one; same report). */
const WORKERS = Number(new URLSearchParams(location.search).get("workers")) === 1 ? 1 : 2;

// Trusted Types (the page's CSP requires them for script URLs): the only script URLs the
// page ever makes are its worker's and its service worker's.
const scriptUrls = globalThis.trustedTypes?.createPolicy("sysmon-lens", {
  createScriptURL: (url) => {
    if (url !== WORKER_URL && url !== SERVICE_WORKER_URL) throw new TypeError(`not the page's worker: ${url}`);
    return url;
  },
});
const scriptUrl = (url) => (scriptUrls ? scriptUrls.createScriptURL(url) : url);

/** Files of the current analysis; each drop adds to them, as more data in one index. */
let files = [];
/** What answers for the report shown (see render.js): a model on this page, or the worker. */
let source = null;
/** The report being received from the worker: {whole, head, stopped}. */
let incoming = null;
/** What the last finished render worked out: {rowFields}. */
let rendered = null;
let defaults = [];
let worker = null;
let runId = 0;
let progressRows = [];
let runStarted = 0;
let showSuppressed = false;
/** Questions to the worker awaiting their answer, by request number. */
const pending = new Map();
let requests = 0;

/** Keeps a status or note for every finding of a table row, and shows the table again. */
function setCase(item, change) {
  caseState.update(item.members.map((member) => member.identity), change);
  rerender();
}

const view = () => ({ rules: settings.rules(), threshold: settings.threshold(), showSuppressed, cases: caseState.cases(), setCase });

/** Renders the report again (settings changed); resolves when it is on screen. */
async function rerender() {
  renderRules();
  if (!source) return;
  const shown = source;
  try {
    const done = await renderReport(null, view(), shown);
    if (!done || shown !== source) return;
    rendered = done;
    renderRules();
  } catch (err) {
    showError(`The report could not be shown: ${reason(err)}`);
  }
}

function startWorker() {
  // From file://, a module worker from a Blob URL fails (the page's origin is opaque): the single file's is classic.
  worker = new Worker(scriptUrl(WORKER_URL), { type: inlineWorker ? "classic" : "module" });
  // It starts a second worker for a large log only from a Blob URL it makes itself (see worker.js).
  if (workerScript) worker.postMessage({ action: "script", script: workerScript });
  let started = false; // a worker that never answered is not started again: that would loop
  worker.onmessage = ({ data: msg }) => {
    started = true;
    onWorkerMessage(msg);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    if (!started) {
      showError(`The analysis could not start: ${event.message || "its worker did not load"}. Reload the page to try again.`);
      setBusy(false);
      return;
    }
    showError(`The analysis stopped unexpectedly: ${event.message || "worker error"}`);
    restartWorker();
  };
}

function restartWorker() {
  worker.terminate();
  for (const { reject } of pending.values()) reject(new Error("the analysis worker was restarted; analyze the files again"));
  pending.clear();
  startWorker();
  setBusy(false);
}

/** Sends `msg` to the worker and resolves to its answer. */
function ask(msg, transfer = []) {
  const request = ++requests;
  return new Promise((resolve, reject) => {
    pending.set(request, { resolve, reject });
    worker.postMessage({ ...msg, id: runId, request }, transfer);
  });
}

/** The worker as the source of what is shown of the report it holds. */
function workerSource(head) {
  return { head, view: (query) => ask({ action: "view", query }), files: (list, page) => ask({ action: "files", list, page }),
    full: (indexes) => ask({ action: "full", indexes }) };
}

function onWorkerMessage(msg) {
  if (msg.request !== undefined) {
    const waiting = pending.get(msg.request);
    pending.delete(msg.request);
    if (msg.action === "error") waiting?.reject(new Error(msg.data));
    else waiting?.resolve(msg.data);
    if (msg.fatal) fatal(msg.data);
    return;
  }
  if (msg.id !== undefined && msg.id !== runId) return;
  switch (msg.action) {
    case "ready":
      defaults = msg.defaults.discovery_programs;
      settings.setDetections(msg.detections);
      $("rule-detection").replaceChildren(el("option", { value: "*", text: "Any detection" }),
        ...msg.detections.map((detection) => el("option", { value: detection.id, text: detection.name })));
      fillRuleFields();
      renderRules();
      if (!$("programs").value) $("programs").value = settings.formatPrograms(settings.programs() ?? defaults);
      document.body.dataset.ready = "true";
      break;
    case "demo":
      files = [];
      analyze([new File([msg.data], "demo-sample.xml", { type: "text/xml" })]);
      break;
    case "progress":
      updateProgress(msg.file, msg.bytes, msg.events);
      break;
    case "report":
      performance.mark("sysmon-lens:report");
      incoming = { whole: msg.whole, head: msg.whole ? JSON.parse(msg.head) : msg.head, stopped: msg.stopped };
      document.body.dataset.wasmMemory = msg.memory;
      break;
    case "part": {
      const list = incoming.head[msg.list];
      for (const item of JSON.parse(msg.data)) list.push(item);
      break;
    }
    case "report-end":
      showReport(incoming);
      incoming = null;
      break;
    case "error":
      if (msg.fatal) return fatal(msg.data);
      setBusy(false);
      showError(`Analysis failed: ${msg.data}`);
      break;
  }
}

/** The worker's wasm instance is lost (a trap): say why, and start a new one. */
function fatal(text) {
  showError(text);
  restartWorker();
  if (document.body.dataset.state === "running") document.body.dataset.state = "failed";
}

async function showReport({ whole, head, stopped }) {
  progressRows.forEach((row, i) => {
    if (!stopped || i < stopped.file) row.status.textContent = `${formatBytes(row.file.size)} read`;
    else if (i === stopped.file) row.status.textContent = `stopped at ${formatBytes(stopped.bytes)} of ${formatBytes(row.file.size)}`;
    else row.status.textContent = "not read";
  });
  if (stopped) showMemoryStop(stopped);
  source = whole ? modelSource(head, (rules) => ask({ action: "suppression", rules })) : workerSource(head);
  // A file of which nothing could be read says so where its progress was shown.
  const unread = new Map((source.head.unreadable ?? []).map((file) => [file.name, file.error]));
  for (const row of progressRows) {
    if (!unread.has(row.file.name)) continue;
    row.status.textContent = `not read: ${unread.get(row.file.name)}`;
    row.status.classList.add("error");
  }
  rendered = null;
  setBusy(false);
  results.hidden = false;
  const id = runId;
  await rerender();
  if (id !== runId) return;
  await showBrowse($("browse"), (msg) => ask(msg).then((data) => JSON.parse(data)));
  if (id !== runId) return;
  performance.mark("sysmon-lens:rendered");
  document.body.dataset.state = "done";
}

/** The analysis reached its wasm memory limit: what it read, what it did not, what to do. */
function showMemoryStop({ limit, memory, events, file, bytes, unread }) {
  const name = files[file]?.name ?? "the file";
  const mib = (n) => `${count(Math.ceil(n / 2 ** 20))} MiB`;
  const notRead = unread.length ? ` ${count(unread.length)} more file(s) were not read: ${unread.slice(0, 10).join(", ")}${unread.length > 10 ? ", …" : ""}.` : "";
  progress.append(el("p", { class: "warning memory-stop", role: "alert", text:
    `The analysis stopped early: its WebAssembly memory reached ${mib(memory)}, past its limit of ${mib(limit)} `
    + `(a wasm32 module can address at most ${WASM32_GIB} GiB, and the report needs room too), after reading ${count(events)} events, `
    + `in ${name} at ${formatBytes(bytes)} of ${formatBytes(files[file]?.size ?? bytes)}.${notRead} `
    + "The report below covers only what was read. To analyze all of it, split the file into smaller files and analyze each on its own "
    + "(Clear between them), or use the command-line tool (sysmon-lens scan), which has no such limit." }));
}

function analyze(added = []) {
  const known = new Set(files.map((f) => `${f.name}\u0000${f.size}\u0000${f.lastModified}`));
  for (const file of added) {
    const key = `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
    if (!known.has(key)) { files.push(file); known.add(key); }
  }
  if (files.length === 0) return;
  runId += 1;
  incoming = null;
  runStarted = performance.now();
  document.body.dataset.state = "running";
  setBusy(true);
  showProgressRows();
  // The counts shown are the last analysis's until this one ends: the headline says so.
  if (source) {
    $("headline").replaceChildren(el("p", { class: "headline-counts stale", role: "status",
      text: `Analysing ${count(files.length)} file${files.length === 1 ? "" : "s"}… The findings below are those of the previous analysis until this one ends.` }));
  }
  const programs = settings.programs();
  const options = {
    ...(programs ? { discovery_programs: programs } : {}),
    ...(MEMORY_LIMIT_MIB ? { memory_limit_bytes: MEMORY_LIMIT_MIB * 2 ** 20 } : {}),
  };
  worker.postMessage({ action: "analyze", id: runId, files, options: Object.keys(options).length ? JSON.stringify(options) : "", workers: WORKERS });
}

function showProgressRows() {
  progress.replaceChildren();
  progressRows = files.map((file) => {
    const bar = el("progress", { max: Math.max(file.size, 1), value: 0 });
    const status = el("span", { class: "status", text: "waiting" });
    progress.append(el("div", { class: "file-progress" }, el("span", { class: "name", text: file.name }), bar, status));
    return { bar, status, file };
  });
}

function updateProgress(index, bytes, events) {
  const row = progressRows[index];
  if (!row) return;
  row.bar.value = bytes;
  row.read = bytes;
  const done = bytes >= row.file.size;
  // Rates over the whole run: bytes of every file read so far, events across files.
  const seconds = Math.max((performance.now() - runStarted) / 1000, 0.001);
  const read = progressRows.reduce((sum, r) => sum + (r.read ?? 0), 0);
  const total = progressRows.reduce((sum, r) => sum + r.file.size, 0);
  const rate = read / seconds;
  const eta = rate > 0 ? Math.ceil((total - read) / rate) : 0;
  row.status.textContent = `${formatBytes(bytes)} of ${formatBytes(row.file.size)}${done ? " — read" : ""} · `
    + `${count(events)} events · ${formatBytes(rate)}/s, ${count(Math.round(events / seconds))} events/s`
    + (read < total ? ` · about ${eta} s left` : "");
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 2 ** 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / 2 ** 30).toFixed(2)} GiB`;
}

function setBusy(busy) {
  $("cancel").hidden = !busy;
  $("clear").hidden = busy || files.length === 0;
  fileInput.disabled = busy;
  $("choose").disabled = busy;
  for (const button of exportButtons) button.disabled = busy;
}

function showError(text) {
  progress.append(el("p", { class: "error", role: "alert", text }));
}

/** Messages about settings (refused, or of no effect), above the report. */
function showNotices(messages) {
  for (const text of messages) notices.append(el("p", { class: "warning", role: "status", text }));
}

function renderRules() {
  const rules = settings.rules();
  const names = Object.fromEntries((source?.head.detections ?? []).map((d) => [d.id, d.name]));
  $("rules").replaceChildren(...rules.map((rule, i) => {
    const remove = el("button", { type: "button", text: "Remove" });
    remove.addEventListener("click", () => {
      settings.setRules(rules.filter((_, j) => j !== i));
      rerender();
    });
    const scope = rule.detection_id === "*" ? "any detection" : names[rule.detection_id] ?? rule.detection_id;
    return el("li", {}, el("code", { text: `${rule.field} ${rule.match} ${rule.value}` }), ` (${scope}) `, remove);
  }));
  const unknown = rendered ? settings.unknownFieldRules(rules, rendered.rowFields) : [];
  $("rule-problems").replaceChildren(...unknown.map((text) => el("li", { class: "warning", text })));
}

// Files in: from the chooser (its button, or Enter or Space on the drop zone), or dropped.
$("choose").addEventListener("click", () => fileInput.click());
dropZone.addEventListener("keydown", (event) => {
  if (event.target !== dropZone || (event.key !== "Enter" && event.key !== " ")) return;
  event.preventDefault();
  if (!fileInput.disabled) fileInput.click();
});
fileInput.addEventListener("change", () => {
  analyze([...fileInput.files]);
  fileInput.value = "";
});
for (const type of ["dragenter", "dragover"]) {
  dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    dropZone.classList.add("over");
  });
}
dropZone.addEventListener("dragleave", () => dropZone.classList.remove("over"));
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.classList.remove("over");
  if (!$("cancel").hidden) return;
  analyze([...(event.dataTransfer?.files ?? [])]);
});
$("demo").addEventListener("click", () => worker.postMessage({ action: "demo" }));
$("clear").addEventListener("click", () => {
  files = [];
  source = null;
  rendered = null;
  worker.postMessage({ action: "release" });
  progress.replaceChildren();
  $("headline").replaceChildren();
  results.hidden = true;
  setBusy(false);
  delete document.body.dataset.state;
});
$("cancel").addEventListener("click", () => {
  runId += 1;
  restartWorker();
  showError("Analysis cancelled.");
  delete document.body.dataset.state;
});

// Settings.
$("programs-save").addEventListener("click", () => {
  showNotices(settings.setPrograms(settings.parsePrograms($("programs").value)));
  analyze();
});
$("programs-reset").addEventListener("click", () => {
  settings.setPrograms(null);
  $("programs").value = settings.formatPrograms(defaults);
  analyze();
});
/** The rule form offers only the fields the chosen detection outputs. */
function fillRuleFields() {
  const field = $("rule-field");
  const was = field.value;
  field.replaceChildren(...settings.fieldsFor($("rule-detection").value).map((name) => el("option", { value: name, text: name })));
  if ([...field.options].some((option) => option.value === was)) field.value = was;
}
$("rule-detection").addEventListener("change", fillRuleFields);
fillRuleFields();
$("rule-add").addEventListener("click", () => {
  const rule = { detection_id: $("rule-detection").value, field: $("rule-field").value, match: $("rule-match").value, value: $("rule-value").value.trim() };
  const refused = $("rule-refused");
  const why = !rule.value ? "a value to match is needed" : settings.neverMatches(rule);
  refused.hidden = !why;
  refused.textContent = why ? `Rule not added: ${why}.` : "";
  if (why) return $("rule-value").focus();
  showNotices(settings.setRules([...settings.rules(), rule]));
  $("rule-value").value = "";
  $("rule-detection").value = "*";
  $("rule-match").value = "equals";
  fillRuleFields();
  $("rule-field").selectedIndex = 0;
  rerender();
});
$("show-suppressed").addEventListener("change", (event) => {
  showSuppressed = event.target.checked;
  rerender();
});
$("rules-export").addEventListener("click", () => download("sysmon-lens-suppression-rules.json",
  new Blob([JSON.stringify(settings.rules(), null, 2) + "\n"], { type: "application/json" })));
$("rules-import-button").addEventListener("click", () => $("rules-import").click());
$("rules-import").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  try {
    const { rules, problems } = settings.checkRules(JSON.parse(await file.text()), "imported rule");
    showNotices([...problems, ...settings.setRules(rules)].map((text) => `${file.name}: ${text}`));
    rerender();
  } catch (err) {
    showError(`Rules not imported from ${file.name}: ${reason(err)}`);
  }
});
/** The threshold field shows the threshold in use, and says so. */
function showThreshold() {
  $("threshold").value = settings.threshold();
  $("threshold-used").textContent = `In use: ${settings.threshold()}.`;
}
showThreshold();
$("threshold").addEventListener("change", (event) => {
  const text = event.target.value.trim();
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  const problems = settings.setThreshold(value);
  showThreshold();
  if (problems.length) $("threshold-used").textContent = `“${text}” is not a positive whole number; ${settings.threshold()} is still used.`;
  rerender();
});
$("clear-cases").addEventListener("click", () => {
  caseState.clear();
  rerender();
});

// Exports, built by the worker, which holds the whole report.
async function exportReport(button, name, format) {
  if (!source) return;
  const status = $("export-status");
  button.disabled = true;
  status.textContent = `Preparing ${name}…`;
  try {
    const query = { rules: settings.rules(), showSuppressed, cases: caseState.cases(), reading: $("navigator-reading").value };
    const answer = await ask({ action: "export", format, query });
    // The HTML report is written here, from what the worker holds: its pictures need a DOM.
    download(name, format === "html" ? await htmlReport(answer, (start) => ask({ action: "findings", start }), query) : answer);
    status.textContent = "";
  } catch (err) {
    status.textContent = `${name} could not be made: ${reason(err)}`;
  } finally {
    button.disabled = false;
  }
}
for (const [id, name, format] of [
  ["export-json", "sysmon-lens-report.json", "json"],
  ["export-csv", "sysmon-lens-findings.csv", "csv"],
  ["export-html", "sysmon-lens-report.html", "html"],
  ["export-navigator", "sysmon-lens-attack-layer.json", "navigator"],
]) $(id).addEventListener("click", (event) => exportReport(event.currentTarget, name, format));

showNotices(settings.settingsProblems());
renderRules();
startWorker();
keepForOffline();

/** Served over HTTP(S), the page registers sw.js, which keeps it for use offline; a new build
 * takes over once every tab of the old one is closed. The single file needs nothing kept. */
function keepForOffline() {
  if (inlineWorker || !navigator.serviceWorker || !location.protocol.startsWith("http")) return;
  navigator.serviceWorker.register(scriptUrl(SERVICE_WORKER_URL), { updateViaCache: "none" })
    .catch((err) => console.warn(`Sysmon Lens will not work offline: ${reason(err)}`));
}
