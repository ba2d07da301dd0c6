// Wires the page: files in (drop or picker), one module worker running the wasm
// core, per-file progress, the rendered report and its JSON export.
import { el } from "./dom.js";
import { renderReport } from "./render.js";

const dropZone = document.getElementById("drop");
const fileInput = document.getElementById("file");
const clearButton = document.getElementById("clear");
const cancelButton = document.getElementById("cancel");
const progress = document.getElementById("progress");
const results = document.getElementById("results");

/** Files of the current analysis; each drop adds to them, as more data in one index. */
let files = [];
let reportText = null;
let worker = null;
let runId = 0;
let progressRows = [];

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
      document.body.dataset.ready = "true";
      break;
    case "progress":
      updateProgress(msg.file, msg.bytes, msg.events);
      break;
    case "report":
      reportText = msg.data;
      setBusy(false);
      renderReport(JSON.parse(reportText));
      results.hidden = false;
      document.body.dataset.state = "done";
      break;
    case "error":
      setBusy(false);
      showError(`Analysis failed: ${msg.data}`);
      break;
  }
}

function analyze(added) {
  const known = new Set(files.map((f) => `${f.name}\u0000${f.size}\u0000${f.lastModified}`));
  for (const file of added) {
    const key = `${file.name}\u0000${file.size}\u0000${file.lastModified}`;
    if (!known.has(key)) { files.push(file); known.add(key); }
  }
  if (files.length === 0) return;
  runId += 1;
  document.body.dataset.state = "running";
  setBusy(true);
  showProgressRows();
  worker.postMessage({ action: "analyze", id: runId, files });
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
  const done = bytes >= row.file.size;
  row.status.textContent = `${formatBytes(bytes)} of ${formatBytes(row.file.size)}${done ? " — read" : ""} · ${events.toLocaleString("en")} Sysmon events so far`;
}

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function setBusy(busy) {
  cancelButton.hidden = !busy;
  clearButton.hidden = busy || files.length === 0;
  fileInput.disabled = busy;
}

function showError(text) {
  progress.append(el("p", { class: "error", role: "alert", text }));
}

function exportJson() {
  if (!reportText) return;
  const pretty = JSON.stringify(JSON.parse(reportText), null, 2) + "\n";
  const url = URL.createObjectURL(new Blob([pretty], { type: "application/json" }));
  const link = el("a", { href: url, download: "sysmon-lens-report.json" });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

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
  if (!cancelButton.hidden) return;
  analyze([...(event.dataTransfer?.files ?? [])]);
});
// A file dropped outside the zone must not make the browser navigate away from the page.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());
clearButton.addEventListener("click", () => {
  files = [];
  reportText = null;
  progress.replaceChildren();
  results.hidden = true;
  setBusy(false);
  delete document.body.dataset.state;
});
cancelButton.addEventListener("click", () => {
  runId += 1;
  restartWorker();
  showError("Analysis cancelled.");
  delete document.body.dataset.state;
});
document.getElementById("export-json").addEventListener("click", exportJson);

startWorker();
