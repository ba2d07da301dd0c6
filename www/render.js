// Renders a report (the CLI's JSON document) into the page, a page of each long list
// (findings, files, risk objects) at a time. What is shown is worked out by a source:
// the report's model (model.js) on this page for a small report, or the worker holding
// a large one, which answers with the page asked for; so 100 k findings or files render
// with the main thread never blocked for long. A part that cannot be shown says so in
// its place and nothing else is lost. Only text nodes carry report strings: see dom.js.
import { el, fieldTable, count, guarded, pagerBar, pagedList, pagerFocus, restorePagerFocus } from "./dom.js";
import { ReportModel } from "./model.js";
import { copyButton, findingPanel } from "./detail.js";

const MODE_NAMES = { as_published: "as published", hardened: "hardened" };
const FILTER_DELAY_MS = 150;

const modelSources = new WeakMap();

/** A report held on this page as a source: its model's answers, at once. */
export function modelSource(report) {
  let source = modelSources.get(report);
  if (!source) {
    const model = new ReportModel(report);
    source = { head: model.head(), view: (query) => model.view(query), files: (list, page) => model.files(list, page) };
    modelSources.set(report, source);
  }
  return source;
}

/** What is on screen: the source, the user's choices, the filter and the pages turned. */
let shown = null;

/**
 * Renders a report. `source` answers what the page shows of it (see model.js): `head`,
 * `view(query)` and `files(list, page)`, at once or as promises; by default the model of
 * `report`, held on this page. `view` holds what the user chose: rules (or a function
 * suppressedBy(finding)), threshold, showSuppressed. Resolves once drawn, to
 * `{ rowFields }` (the fields of the findings' rows), or to null when a newer render
 * took over.
 */
export async function renderReport(report, view, source = modelSource(report)) {
  if (shown?.source !== source) {
    shown = { source, needle: "", pages: {}, draws: 0 };
    findingsFrame().input.value = "";
    document.getElementById("summary").replaceChildren(guarded("The summary", () => renderSummary(source)));
  }
  const state = shown;
  state.view = view;
  return (await drawFindings(state)) ? { rowFields: source.head.rowFields } : null;
}

// The summary: totals, one row per file, and per file what could not be read or seen.

function renderSummary(source) {
  const s = source.head.summary;
  const overview = fieldTable([
    ["Files", s.files],
    ["Sysmon events by EventID", eventCounts(s.sysmon_events)],
    ["Other providers' events (skipped, never matched)", s.other_events],
    ["Records that could not be read", s.skipped],
    ["Hosts (process and network events)", names(s.hosts, s.host_count)],
    ["Users", names(s.users, s.user_count)],
    ["Time range of process and network events (UTC)", s.first_time ? `${s.first_time} — ${s.last_time}` : "none"],
  ], "fields summary-table");
  const files = pagedList((page) => source.files("all", page), (file) => guarded("This file's row", () => fileRow(file), "tr"), { tag: "tbody", label: "Pages of files" });
  const fileTable = el("table", { class: "files" },
    el("thead", {}, el("tr", {}, ["File", "Format", "Encoding", "Sysmon events", "Other", "Skipped", "_time from"].map((h) => el("th", { text: h })))),
    files.list);
  const problems = pagedList((page) => source.files("problems", page), (file) => guarded("This file's problems", () => problemsOf(file)), { label: "Pages of what could not be read" });
  const gaps = pagedList((page) => source.files("gaps", page), (file) => guarded("This file's gaps", () =>
    el("div", { class: "gaps" }, el("h4", { text: file.name }), el("ul", {}, file.missing_fields.map((gap) => el("li", { text: gap }))))),
    { label: "Pages of what the detections cannot see" });
  const summary = el("div", {}, overview, files.bar, fileTable);
  // The lists of problems and gaps are shown when they hold any file.
  const some = (list, className, title) => list.shown.then(() => {
    if (list.list.childElementCount) summary.append(el("details", { class: className }, el("summary", { text: title }), list.bar, list.list));
  });
  some(problems, "skipped", "What could not be read").then(() => some(gaps, "missing", "What the detections cannot see in this data"));
  return summary;
}

function fileRow(file) {
  return el("tr", { class: file.error ? "file-error" : null },
    el("td", { class: "name", text: file.name }),
    el("td", { text: file.container ? `${file.format} (in ${file.container})` : file.format }),
    el("td", { text: file.encoding }),
    el("td", { text: eventCounts(file.sysmon_events) + (file.flow_records ? `; Cisco NVM flows: ${file.flow_records}` : "") }),
    el("td", { text: file.other_events }),
    el("td", { text: file.skipped_count }),
    el("td", { text: timeSources(file) }));
}

function problemsOf(file) {
  return el("div", { class: "problems" },
    el("h4", { text: file.name }),
    file.error ? el("p", { class: "error", text: file.error }) : null,
    file.skipped.length ? el("ul", {}, file.skipped.map((skip) => el("li", {}, el("code", { text: skip.position }), ` ${skip.reason}`))) : null,
    file.skipped_count > file.skipped.length ? el("p", { text: `…and ${count(file.skipped_count - file.skipped.length)} more skipped records.` }) : null);
}

/** The first names of a list (the model sends at most NAMES_SHOWN) and how many more there are. */
function names(list, total = list.length) {
  if (total === 0) return "none";
  const more = total - list.length;
  return list.join(", ") + (more > 0 ? `, and ${count(more)} more (in the JSON report)` : "");
}

function timeSources(file) {
  const sources = Object.entries(file.time_sources).map(([field, n]) => `${field}: ${n}`).join(", ") || "—";
  return file.time_skew_events ? `${sources} (${file.time_skew_events} differ from UtcTime by over 1 s)` : sources;
}

function eventCounts(counts) {
  const entries = Object.entries(counts);
  return entries.length ? entries.map(([id, n]) => `EID ${id}: ${n}`).join(", ") : "none";
}

// Findings: by detection, a column per reading, a page of each column at a time; then risk.

/** The findings filter and the listing below it, made once so that typing is never interrupted. */
let frame = null;
function findingsFrame() {
  if (frame) return frame;
  const input = el("input", { type: "search", id: "finding-filter", placeholder: "Filter findings by any value (host, user, process…)", "aria-label": "Filter findings" });
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (!shown) return;
      shown.needle = input.value.trim().toLowerCase();
      shown.pages = {};
      drawFindings(shown);
    }, FILTER_DELAY_MS);
  });
  frame = { input, listing: el("div", { class: "finding-listing" }) };
  return frame;
}

/** Asks the source for the findings and risk on screen and draws them; false when superseded. */
async function drawFindings(state) {
  const draw = ++state.draws;
  const { view, needle, pages, source } = state;
  const query = { rules: view.rules, showSuppressed: Boolean(view.showSuppressed), needle, pages };
  if (view.suppressedBy) query.suppressedBy = view.suppressedBy;
  const data = await source.view(query);
  if (shown !== state || state.draws !== draw) return false;
  const turn = (key) => (page) => {
    state.pages = { ...state.pages, [key]: page };
    const seen = pagerFocus();
    drawFindings(state).then(() => restorePagerFocus(seen));
  };
  const { input, listing } = findingsFrame();
  const container = document.getElementById("findings");
  if (container.firstChild !== input) container.replaceChildren(input, listing);
  const columnOf = (detection, mode) => data.columns.find((c) => c.detection_id === detection.id && c.mode === mode);
  const sections = source.head.detections.map((detection) => guarded("This detection's findings", () =>
    renderDetection(detection, (mode) => columnOf(detection, mode), needle, turn)));
  const status = `${count(data.listed)} of ${count(data.findings)} findings listed`
    + (needle ? ` (matching “${needle}”)` : "")
    + `: ${count(data.active)} active, ${count(data.suppressed)} suppressed${data.suppressed && !view.showSuppressed ? " (hidden)" : ""}.`;
  listing.replaceChildren(el("p", { class: "finding-status", id: "finding-status", text: status }), ...sections,
    data.unplaced.total ? el("section", { class: "detection unplaced" },
      el("h3", { text: `Findings of no known detection or reading (${count(data.unplaced.total)})` }),
      pagerBar(data.unplaced, turn("unplaced"), "Pages of findings of no known detection or reading"), el("div", { class: "finding-list" }, data.unplaced.items.map(findingPanel))) : "");
  document.getElementById("risk").replaceChildren(guarded("Risk by object", () => renderRisk(data.risk, view.threshold, turn("risk"))));
  return true;
}

function renderDetection(detection, columnOf, needle, turn) {
  const about = el("details", { class: "about" },
    el("summary", { text: "About this detection" }),
    el("p", { text: detection.description }),
    fieldTable([
      ["ID", detection.id],
      ["Version", detection.version],
      ["Type", detection.type],
      ["Author", detection.author],
      ["Analytic story", detection.analytic_story.join(", ")],
      ["Data sources", detection.data_sources.join(", ")],
      ["How to implement", detection.how_to_implement],
      ["Known false positives", detection.known_false_positives],
      ["References", detection.references.join("\n")],
    ]),
    el("h4", { text: "What the published search does" }),
    el("ul", { class: "quirks" }, detection.published_quirks.map((q) => el("li", { text: q }))),
    el("h4", {}, "Search (SPL) ", copyButton(detection.search)),
    el("pre", { class: "spl", text: detection.search }));
  const column = (mode) => {
    const data = columnOf(mode);
    return el("div", { class: `mode-column ${mode}`, "data-mode": mode },
      el("h4", {}, MODE_NAMES[mode], el("span", { class: "count", text: `${count(data.all - data.suppressed)} active` }),
        data.suppressed ? el("span", { class: "suppressed-count", text: `${count(data.suppressed)} suppressed` }) : null,
        needle ? el("span", { class: "match-count", text: `${count(data.total)} match the filter` }) : null),
      pagerBar(data, turn(data.key), `Pages of ${detection.name}, ${MODE_NAMES[mode]}`),
      data.total
        ? el("div", { class: "finding-list" }, data.items.map(findingPanel))
        : el("p", { class: "none", text: needle && data.all ? "No finding matches the filter." : "No findings." }));
  };
  return el("section", { class: "detection", "data-detection-id": detection.id },
    el("h3", {}, detection.name, el("span", { class: "tag", text: detection.type })),
    about,
    el("div", { class: "modes" }, column("as_published"), column("hardened")));
}

// Risk: the published findings' risk, totalled per risk object, without those suppressed.

function renderRisk(risk, threshold, turn) {
  return el("div", {},
    el("p", { class: "none", text: `Risk from findings as published, totalled per risk object as Splunk ES does; objects at or above the threshold (${threshold}) would raise a risk incident.` }),
    risk.total
      ? el("div", {}, pagerBar(risk, turn, "Pages of risk objects"), el("table", { class: "risk-totals" },
          el("thead", {}, el("tr", {}, ["Risk object", "Type", "Total score", "Contributing findings"].map((h) => el("th", { text: h })))),
          el("tbody", {}, risk.items.map((row) => guarded("This risk object", () => riskRow(row, threshold), "tr")))))
      : el("p", { class: "none", text: "No risk: no findings." }));
}

function riskRow({ object, type, score, contributing, names: shownNames, error }, threshold) {
  if (error) throw new Error(error);
  const more = contributing - shownNames.length;
  return el("tr", { class: score >= threshold ? "over-threshold" : null },
    el("td", { text: object }), el("td", { text: type }),
    el("td", {}, String(score), score >= threshold ? el("span", { class: "badge sev-high", text: `≥ ${threshold}` }) : null),
    el("td", { text: shownNames.join("; ") + (more > 0 ? `; and ${count(more)} more` : "") }));
}
