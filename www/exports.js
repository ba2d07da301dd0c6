// Exports of a report, built in the worker (which holds the report): a self-contained
// HTML report that opens from disk and makes no request, written finding by finding, and
// an ATT&CK Navigator layer; the JSON report and the findings CSV come from the core.
// The page saves them from Blobs; nothing goes in a URL.

import { display } from "./dom.js";

/** Saves `blob` under `name` through a temporary object URL. */
export function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/** Escapes text for HTML: the report's strings come from the logged machine. */
function esc(value) {
  return display(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function table(entries) {
  return `<table>${entries.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>`;
}

// A standalone HTML document of the report, with its own CSP forbidding every request,
// written in three parts so that the findings between them can come in batches:
// htmlReportStart, then htmlFinding for each finding, then htmlReportEnd.

/** The document up to its findings: head, CSP, summary. */
export function htmlReportStart(report, findingCount) {
  const s = report.summary;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>Sysmon Lens report</title>
<style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:auto;padding:1rem;color:#1b1f24}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;vertical-align:top;border-bottom:1px solid #d0d7de;padding:.2rem .4rem;font-size:.85rem}
th{width:16rem;color:#57606a;font-weight:500}td,pre{font-family:ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
.finding{border:1px solid #d0d7de;border-radius:.35rem;padding:.5rem 1rem;margin:1rem 0}.suppressed{opacity:.55}.notes{color:#9a6700}</style>
</head><body>
<h1>Sysmon Lens report</h1>
<p>${esc(`${report.tool.name} ${report.tool.version}`)}; every value below is shown as text, as it was logged.</p>
<h2>Summary</h2>
${table([["Files", report.files.map((f) => f.name).join(", ")], ["Sysmon events", Object.entries(s.sysmon_events).map(([k, v]) => `EID ${k}: ${v}`).join(", ")],
  ["Hosts (process and network events)", s.hosts.join(", ")], ["Time range of process and network events (UTC)", s.first_time ? `${s.first_time} — ${s.last_time}` : "none"]])}
<h2>Findings (${findingCount})</h2>`;
}

/** One finding of the document; `state` is the analyst's `{ status, note }` for it. */
export function htmlFinding(f, suppressed, state = { status: "new", note: "" }) {
  return `
    <section class="finding${suppressed ? " suppressed" : ""}">
      <h3>${esc(f.detection)} — ${esc(f.mode === "hardened" ? "hardened" : "as published")}${suppressed ? " (suppressed)" : ""}</h3>
      <p class="case">Status: <strong>${esc(state.status)}</strong>${state.note ? ` — note: ${esc(state.note)}` : ""}</p>
      <p class="risk">${esc(`${f.risk.severity} · ${f.risk.score}`)} — ${esc(f.risk.message)}</p>
      ${f.explanation.notes.length ? `<ul class="notes">${f.explanation.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>` : ""}
      ${table(Object.entries(f.row))}
      <h4>Why</h4><ul>${f.explanation.conditions.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>
      <h4>Events</h4>${f.events.map((e) => `<details><summary>${esc(`${e.file} · ${e.position} · EventID ${e.event_id}`)}</summary>${table(Object.entries(e.fields))}</details>`).join("")}
    </section>`;
}

/** The document after its findings: risk by object and the searches. */
export function htmlReportEnd(report) {
  const detections = report.detections.map((d) => `<h3>${esc(d.name)}</h3><pre>${esc(d.search)}</pre>`).join("");
  return `
<h2>Risk by object</h2>${table(report.risk_totals.map((t) => [`${t.object} (${t.type})`, `${t.score} from ${t.findings} findings`]))}
<h2>Searches</h2>${detections}
</body></html>
`;
}

/**
 * An ATT&CK Navigator layer scoring each technique by its findings; `isSuppressed(index)`,
 * `caseAt(index)` the analyst's `{ status, note }`, counted per status in each comment.
 */
export function navigatorLayer(report, isSuppressed, caseAt = () => ({ status: "new", note: "" })) {
  const counts = new Map();
  for (const [index, finding] of report.findings.entries()) {
    if (isSuppressed(index)) continue;
    const { status } = caseAt(index);
    for (const technique of finding.annotations.mitre_attack) {
      const entry = counts.get(technique.id) ?? { count: 0, detections: new Set(), statuses: new Map(), version: finding.annotations.attack_version };
      entry.count += 1;
      entry.detections.add(finding.detection);
      entry.statuses.set(status, (entry.statuses.get(status) ?? 0) + 1);
      counts.set(technique.id, entry);
    }
  }
  const techniques = [...counts].map(([id, entry]) => ({
    techniqueID: id, score: entry.count, enabled: true,
    comment: `${entry.count} finding(s): ${[...entry.detections].join("; ")}; status: ${[...entry.statuses].map(([status, n]) => `${n} ${status}`).join(", ")}`,
  }));
  const version = [...counts.values()][0]?.version ?? "18";
  return JSON.stringify({
    name: "Sysmon Lens findings", domain: "enterprise-attack",
    versions: { attack: version, navigator: "5.1.0", layer: "4.5" },
    description: `Techniques with findings in ${report.files.length} file(s), from ${report.tool.name} ${report.tool.version}`,
    techniques, gradient: { colors: ["#ffe766", "#ff6666"], minValue: 0, maxValue: Math.max(1, ...techniques.map((t) => t.score)) },
  }, null, 2) + "\n";
}

/** A CSV cell as the core writes one: quoted when needed, a would-be formula neutralized with `'`. */
function csvCell(text) {
  const formula = /^[=+\-@\t\r]/.test(text) && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text);
  if (!formula && !/[,"\r\n]/.test(text)) return text;
  return `"${formula ? "'" : ""}${text.replaceAll('"', '""')}"`;
}

/**
 * The core's findings CSV (a header, then one CRLF-ended record per finding of `indexes`)
 * with two more columns, status and note, from `caseAt(index)`. A record ends at a CRLF
 * outside quotes.
 */
export function withCaseColumns(csv, indexes, caseAt) {
  const out = [];
  let start = 0;
  let quoted = false;
  let record = -1;
  for (let i = 0; i < csv.length; i += 1) {
    const c = csv[i];
    if (c === '"') quoted = !quoted;
    else if (c === "\r" && !quoted && csv[i + 1] === "\n") {
      const extra = record < 0 ? "status,note" : (({ status, note }) => `${csvCell(status)},${csvCell(note)}`)(caseAt(indexes[record]));
      out.push(`${csv.slice(start, i)},${extra}\r\n`);
      record += 1;
      start = i + 2;
      i += 1;
    }
  }
  return out.join("");
}
