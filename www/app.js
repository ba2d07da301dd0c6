// Wires the page: files in (drop, picker or the demo sample), one module worker running
// the wasm core, per-file progress, settings, the rendered report and its exports.
import { el } from "./dom.js";
import { renderReport } from "./render.js";
import * as settings from "./settings.js";
import { download, findingsCsv, htmlReport, navigatorLayer } from "./exports.js";

const $ = (id) => document.getElementById(id);
const dropZone = $("drop");
const fileInput = $("file");
const progress = $("progress");
const results = $("results");

/** Files of the current analysis; each drop adds to them, as more data in one index. */
let files = [];
let reportText = null;
let report = null;
let defaults = [];
let worker = null;
let runId = 0;
let progressRows = [];
let runStarted = 0;
let showSuppressed = false;

const view = () => {
  const rules = settings.rules();
  return { suppressedBy: (f) => settings.suppressedBy(f, rules), threshold: settings.threshold(), showSuppressed };
};
const isSuppressed = (f) => view().suppressedBy(f) !== null;

function rerender() {
  if (report) renderReport(report, view());
  renderRules();
}

function startWorker() {
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = ({ data: msg }) => onWorkerMessage(msg);
  worker.onerror = (event) => {
    event.preventDefault();
    showError(`The analysis stopped unexpectedly: ${event.message || "worker error"}`);
    restartWorker();
  };
}

function restartWorker() {
  worker.terminate();
  startWorker();
  setBusy(false);
}

function onWorkerMessage(msg) {
  if (msg.id !== undefined && msg.id !== runId) return;
  switch (msg.action) {
    case "ready":
      defaults = msg.defaults.discovery_programs;
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
      for (const row of progressRows) row.status.textContent = `${formatBytes(row.file.size)} read`;
      reportText = msg.data;
      document.body.dataset.wasmMemory = msg.memory;
      report = JSON.parse(reportText);
      setBusy(false);
      rerender();
      results.hidden = false;
      document.body.dataset.state = "done";
      break;
    case "error":
      setBusy(false);
      showError(`Analysis failed: ${msg.data}`);
      break;
  }
}

function analyze(added = []) {
  const known = new Set(files.map((f) => `${f.name}\u0000${f.size}\u0000${f.lastModified}`));
  for (const file of added) {
    const key = `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
    if (!known.has(key)) { files.push(file); known.add(key); }
  }
  if (files.length === 0) return;
  runId += 1;
  runStarted = performance.now();
  document.body.dataset.state = "running";
  setBusy(true);
  showProgressRows();
  const programs = settings.programs();
  const options = programs ? JSON.stringify({ discovery_programs: programs }) : "";
  worker.postMessage({ action: "analyze", id: runId, files, options });
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
    + `${events.toLocaleString("en")} events · ${formatBytes(rate)}/s, ${Math.round(events / seconds).toLocaleString("en")} events/s`
    + (read < total ? ` · about ${eta} s left` : "");
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function setBusy(busy) {
  $("cancel").hidden = !busy;
  $("clear").hidden = busy || files.length === 0;
  fileInput.disabled = busy;
}

function showError(text) {
  progress.append(el("p", { class: "error", role: "alert", text }));
}

function renderRules() {
  const rules = settings.rules();
  const names = Object.fromEntries((report?.detections ?? []).map((d) => [d.id, d.name]));
  $("rules").replaceChildren(...rules.map((rule, i) => {
    const remove = el("button", { type: "button", text: "Remove" });
    remove.addEventListener("click", () => {
      settings.setRules(rules.filter((_, j) => j !== i));
      rerender();
    });
    const scope = rule.detection_id === "*" ? "any detection" : names[rule.detection_id] ?? rule.detection_id;
    return el("li", {}, el("code", { text: `${rule.field} ${rule.match} ${rule.value}` }), ` (${scope}) `, remove);
  }));
}

// Files in.
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
// A file dropped outside the zone must not make the browser navigate away from the page.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());
$("demo").addEventListener("click", () => worker.postMessage({ action: "demo" }));
$("clear").addEventListener("click", () => {
  files = [];
  reportText = null;
  report = null;
  progress.replaceChildren();
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
  settings.setPrograms(settings.parsePrograms($("programs").value));
  analyze();
});
$("programs-reset").addEventListener("click", () => {
  settings.setPrograms(null);
  $("programs").value = settings.formatPrograms(defaults);
  analyze();
});
$("rule-add").addEventListener("click", () => {
  const rule = { detection_id: $("rule-detection").value, field: $("rule-field").value.trim(), match: $("rule-match").value, value: $("rule-value").value };
  if (!rule.field || !rule.value) return;
  settings.setRules([...settings.rules(), rule]);
  rerender();
});
$("show-suppressed").addEventListener("change", (event) => {
  showSuppressed = event.target.checked;
  rerender();
});
$("rules-export").addEventListener("click", () =>
  download("sysmon-lens-suppression-rules.json", "application/json", JSON.stringify(settings.rules(), null, 2) + "\n"));
$("rules-import").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  event.target.value = "";
  if (!file) return;
  try {
    const imported = JSON.parse(await file.text());
    if (!settings.validRules(imported)) throw new Error("not a list of {detection_id, field, match, value} rules");
    settings.setRules(imported);
    rerender();
  } catch (err) {
    showError(`Rules not imported from ${file.name}: ${err.message}`);
  }
});
$("threshold").value = settings.threshold();
$("threshold").addEventListener("change", (event) => {
  settings.setThreshold(Number(event.target.value) || settings.DEFAULT_THRESHOLD);
  rerender();
});

// Exports.
$("export-json").addEventListener("click", () => {
  if (reportText) download("sysmon-lens-report.json", "application/json", JSON.stringify(report, null, 2) + "\n");
});
$("export-csv").addEventListener("click", () => report && download("sysmon-lens-findings.csv", "text/csv", findingsCsv(report, isSuppressed)));
$("export-html").addEventListener("click", () => report && download("sysmon-lens-report.html", "text/html", htmlReport(report, isSuppressed)));
$("export-navigator").addEventListener("click", () =>
  report && download("sysmon-lens-attack-layer.json", "application/json", navigatorLayer(report, isSuppressed)));

renderRules();
startWorker();
