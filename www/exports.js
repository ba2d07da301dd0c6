// Exports of a report: a self-contained HTML report that opens from disk and makes no
// request, written by the page (its pictures need a DOM) finding by finding from what the
// worker holds; an ATT&CK Navigator layer of one reading and the findings CSV with case
// columns, built in the worker; the JSON report comes from the core. The page saves
// them from Blobs; nothing goes in a URL.

import { el, count, fieldTable, guarded } from "./dom.js";
import { treePicture } from "./tree.js";
import { timelinePicture } from "./timeline.js";

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

const REPORT_STYLE = `body{font-family:system-ui,sans-serif;max-width:72rem;margin:auto;padding:1rem;color:#1b1f24}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;vertical-align:top;border-bottom:1px solid #d0d7de;padding:.2rem .4rem;font-size:.85rem}
.fields th{width:16rem;color:#57606a;font-weight:500}td,pre,code{font-family:ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
.finding{border:1px solid #d0d7de;border-left:.35rem solid #1f6feb;border-radius:.35rem;padding:.5rem 1rem;margin:1rem 0}
.finding.suppressed{opacity:.6}.notes{color:#8a5d00}.generated{color:#57606a}
.badge{color:#fff;border-radius:.25rem;padding:0 .4rem;font-size:.85rem;white-space:nowrap;margin-right:.5rem}
.sev-informational{border-left-color:#6e7781}.badge.sev-informational{background:#6e7781}.sev-low{border-left-color:#1f6feb}.badge.sev-low{background:#1f6feb}
.sev-medium{border-left-color:#8a5d00}.badge.sev-medium{background:#8a5d00}.sev-high{border-left-color:#d1242f}.badge.sev-high{background:#d1242f}
.sev-critical{border-left-color:#8b0000}.badge.sev-critical{background:#8b0000}
.picture{border:1px solid #d0d7de;border-radius:.35rem;background:#fbfcfd;overflow-x:auto}.picture svg{display:block;max-width:100%;height:auto}
svg .node rect{fill:#fff;stroke:#d0d7de;stroke-width:1.5}svg .node.process rect{fill:#eef5ff;stroke:#1f6feb;stroke-width:2.5}
svg .node.ancestor rect{fill:#f6f8fa}svg .node.child rect{fill:#fff8e6}svg text{font-family:ui-monospace,monospace;font-size:12px;fill:#1b1f24}
svg text.detail{font-size:11px;fill:#57606a}svg .edge{stroke:#8c959f;stroke-width:1.5}
.picture .notes{padding:.25rem .75rem .5rem 1.5rem}.timeline{padding:.25rem .5rem}.timeline .span,.timeline .note{color:#57606a;font-size:.85rem}
.moments{list-style:none;margin:0;padding:0}.moment{display:grid;grid-template-columns:14.5rem minmax(4rem,1fr) minmax(0,1.5fr);gap:.75rem;align-items:center;padding:.15rem 0}
.moment time{font-family:ui-monospace,monospace;font-size:.8rem;white-space:nowrap}.moment .track{position:relative;height:.9rem;border-left:1px solid #d0d7de;border-right:1px solid #d0d7de}
.moment .dot{position:absolute;top:50%;width:.6rem;height:.6rem;margin:-.3rem 0 0 -.3rem;border-radius:50%;background:#1f6feb}.moment.connection .dot{background:#d1242f}
.moment.own{background:#eef5ff}.moment .what{overflow-wrap:anywhere}.moment .since{color:#57606a}
.moment .mark{font-size:.75rem;color:#fff;background:#0b5cad;border-radius:1rem;padding:0 .45rem;margin-right:.4rem}
@media (max-width:700px){.moment{grid-template-columns:minmax(0,1fr) minmax(3rem,.6fr)}.moment .what{grid-column:1/-1}}`;

/** The document around the report's body: its own CSP forbids every request. No report value goes in here. */
const DOCUMENT_START = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sysmon Lens report</title>
<style>${REPORT_STYLE}</style>
</head><body><main>
`;
const READING_TITLES = { as_published: "as published", hardened: "hardened" };
/** Characters of serialized HTML gathered before they are folded into the Blob. */
const FOLD_CHARS = 16 << 20;

/** A size in bytes, exact and in words. */
const sizeText = (bytes) => `${count(bytes)} bytes${bytes >= 1024 ? ` (${(bytes / (bytes >= 1 << 20 ? 1 << 20 : 1024)).toFixed(1)} ${bytes >= 1 << 20 ? "MiB" : "KiB"})` : ""}`;
const ruleText = (rule) => `${rule.field} ${rule.match} ${rule.value}`;

/**
 * The HTML report as the page shows the report: a self-contained document that opens from
 * disk and makes no request. Every part is built as DOM with report values in text nodes
 * only (dom.js), the process tree and timeline by tree.js, then serialized. `data` is what
 * the worker gives (its htmlInputs), `nextFindings(start)` resolves to the next part of the
 * full findings (`[JSON array text, next start]`, the same start at the end), `view` is the
 * page's `{ rules, showSuppressed }`. Resolves to a Blob, gathered a part at a time.
 */
export async function htmlReport(data, nextFindings, view, generated = new Date()) {
  let blob = new Blob([]);
  let parts = [DOCUMENT_START, reportStart(data, view, generated).outerHTML];
  let chars = 0;
  const add = (node) => {
    const html = node.outerHTML;
    parts.push(html);
    chars += html.length;
    if (chars < FOLD_CHARS) return;
    blob = new Blob([blob, ...parts]);
    parts = [];
    chars = 0;
  };
  let index = 0;
  for (let start = 0; ;) {
    const [json, end] = await nextFindings(start);
    if (end === start) break;
    for (const finding of JSON.parse(json)) {
      const rule = data.ruleOf[index];
      if (!rule || view.showSuppressed) add(guarded(`Finding ${index + 1}`, () => findingSection(finding, rule, data.cases[index]), "section"));
      index += 1;
    }
    start = end;
  }
  add(reportEnd(data));
  return new Blob([blob, ...parts, "</main></body></html>\n"], { type: "text/html" });
}

/** The report's head: when it was made, of which files (size, SHA-256), the summary, the suppression applied. */
function reportStart({ head, inputs, ruleOf, findingCount }, { rules, showSuppressed }, generated) {
  const s = head.summary;
  const hid = new Map(rules.map((rule) => [JSON.stringify(rule), 0]));
  for (const rule of ruleOf) if (rule) hid.set(JSON.stringify(rule), (hid.get(JSON.stringify(rule)) ?? 0) + 1);
  const suppressed = ruleOf.filter(Boolean).length;
  const names = Object.fromEntries(head.detections.map((d) => [d.id, d.name]));
  const listed = findingCount - (showSuppressed ? 0 : suppressed);
  return el("div", { class: "report-head" },
    el("h1", { text: "Sysmon Lens report" }),
    el("p", { class: "generated" }, "Generated ", el("time", { datetime: generated.toISOString(), text: `${generated.toISOString().replace("T", " ").replace(/\.\d+Z$/, "")} UTC` }),
      ` by ${head.tool.name} ${head.tool.version}; every value below is shown as text, as it was logged.`),
    el("h2", { text: "Input files" }),
    el("table", { class: "inputs" },
      el("thead", {}, el("tr", {}, ["File", "Size", "SHA-256"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, inputs.map((file) => el("tr", {}, el("td", { text: file.name }), el("td", { text: sizeText(file.size) }),
        el("td", { class: "sha256", text: file.sha256 ?? "not computed: the file was not read whole, in order, by one reader" }))))),
    el("h2", { text: "Summary" }),
    fieldTable([
      ["Files", s.files], ["Files not read (none of their records could be read)", head.unreadableCount ?? 0],
      ["Sysmon events by EventID", Object.entries(s.sysmon_events).map(([id, n]) => `EID ${id}: ${n}`).join(", ") || "none"],
      ["Records that could not be read", s.skipped],
      ["Hosts (process and network events)", s.hosts.join(", ") + (s.host_count > s.hosts.length ? `, and ${count(s.host_count - s.hosts.length)} more` : "")],
      ["Time range of process and network events (UTC)", s.first_time ? `${s.first_time} — ${s.last_time}` : "none"],
      ["Findings", `${count(findingCount)}: ${count(findingCount - suppressed)} active, ${count(suppressed)} suppressed`],
    ]),
    el("h2", { text: "Suppression" }),
    rules.length
      ? el("div", {},
        el("p", { text: `${count(rules.length)} rule${rules.length === 1 ? "" : "s"} applied, hiding ${count(suppressed)} finding${suppressed === 1 ? "" : "s"}${suppressed ? (showSuppressed ? "; they are listed below, marked suppressed" : "; they are not listed below") : ""}.` }),
        el("table", { class: "rules" },
          el("thead", {}, el("tr", {}, ["Rule", "Detection", "Findings it hid"].map((h) => el("th", { scope: "col", text: h })))),
          el("tbody", {}, rules.map((rule) => el("tr", {}, el("td", {}, el("code", { text: ruleText(rule) })),
            el("td", { text: rule.detection_id === "*" ? "any detection" : names[rule.detection_id] ?? rule.detection_id }),
            el("td", { text: count(hid.get(JSON.stringify(rule)) ?? 0) }))))))
      : el("p", { text: "No suppression rule: every finding is listed." }),
    el("h2", { text: `Findings (${count(listed)} listed)` }));
}

/** One finding: severity, reading, case state, output row, why, tree and timeline pictures, events. */
function findingSection(f, rule, state) {
  const severity = f.risk.severity;
  return el("section", { class: `finding sev-${severity}${rule ? " suppressed" : ""}`, "data-mode": f.mode },
    el("h3", { text: `${f.detection} — ${READING_TITLES[f.mode] ?? f.mode}${rule ? ` (suppressed: ${ruleText(rule)})` : ""}` }),
    el("p", { class: "risk" }, el("span", { class: `badge sev-${severity}`, text: `${severity} · ${f.risk.score}` }), f.risk.message),
    el("p", { class: "case" }, "Status: ", el("strong", { text: state.status }), state.note ? ` — note: ${state.note}` : ""),
    f.explanation.notes.length ? el("ul", { class: "notes" }, f.explanation.notes.map((n) => el("li", { text: n }))) : null,
    fieldTable(Object.entries(f.row)),
    el("h4", { text: "Why it matched" }), el("ul", {}, f.explanation.conditions.map((c) => el("li", { text: c }))),
    el("h4", { text: "Process tree" }), guarded("The process tree", () => picture(treePicture(f.process_tree, () => {}))),
    el("h4", { text: "Timeline (UTC)" }), guarded("The timeline", () => picture(timelinePicture(f.process_tree, new Set(f.events.map((e) => `${e.file}, ${e.position}`))))),
    el("h4", { text: `Events (${count(f.events.length)})` }),
    f.events.map((e) => el("details", {}, el("summary", { text: `${e.file} · ${e.position} · EventID ${e.event_id}` }),
      e.raw ? el("pre", { class: "raw", text: e.raw.text + (e.raw.truncated ? "\n… (truncated)" : "") }) : null,
      fieldTable(Object.entries(e.fields)))));
}

/** A picture of tree.js or timeline.js, made static: no zoom buttons, nothing takes the focus or acts as a button. */
function picture(node) {
  for (const control of node.querySelectorAll("button, .zoom-readout")) control.remove();
  for (const focusable of node.querySelectorAll("[tabindex]")) focusable.removeAttribute("tabindex");
  for (const button of node.querySelectorAll("[role=button]")) {
    button.removeAttribute("role");
    button.removeAttribute("aria-pressed");
  }
  // Drawn at its own size, never larger: the page's box fitting does not apply here.
  for (const tree of node.querySelectorAll("svg[viewBox]")) {
    const [, , width, height] = tree.getAttribute("viewBox").split(" ");
    tree.setAttribute("width", width);
    tree.setAttribute("height", height);
  }
  for (const sized of node.querySelectorAll("[style]")) if (!sized.classList.contains("dot")) sized.removeAttribute("style");
  return el("div", { class: "picture" }, node);
}

/** The report's end: risk by object (as the page totals it, without what is suppressed) and the searches. */
function reportEnd({ head, risk }) {
  return el("div", { class: "report-end" },
    el("h2", { text: "Risk by object" }),
    el("p", { text: "Risk from findings as published, without those suppressed, totalled per risk object." }),
    el("table", { class: "risk" },
      el("thead", {}, el("tr", {}, ["Risk object", "Type", "Total score", "Contributing findings"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, risk.map((t) => el("tr", {}, el("td", { text: t.object }), el("td", { text: t.type }), el("td", { text: t.error ? "—" : String(t.score) }),
        el("td", { text: t.error ?? `${count(t.contributing)}: ${t.names.join("; ")}` }))))),
    el("h2", { text: "Searches" }),
    head.detections.map((d) => [el("h3", { text: d.name }), el("pre", { text: d.search })]));
}

/**
 * An ATT&CK Navigator layer scoring each technique by the findings of one `reading`
 * (as_published or hardened: the two readings' findings of one activity are never added
 * up); `isSuppressed(index)`, `caseAt(index)` the analyst's `{ status, note }`, counted
 * per status in each comment.
 */
export function navigatorLayer(report, isSuppressed, caseAt = () => ({ status: "new", note: "" }), reading = "as_published") {
  if (!READING_TITLES[reading]) throw new Error(`no reading ${reading}`);
  const counts = new Map();
  for (const [index, finding] of report.findings.entries()) {
    if (finding.mode !== reading || isSuppressed(index)) continue;
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
    name: `Sysmon Lens findings (${READING_TITLES[reading]})`, domain: "enterprise-attack",
    versions: { attack: version, navigator: "5.1.0", layer: "4.5" },
    description: `Techniques with findings of the detections ${READING_TITLES[reading]}, without those suppressed, in ${report.files.length} file(s), from ${report.tool.name} ${report.tool.version}`,
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
