// Renders a report (the CLI's JSON document) into the page, a page of each long list
// (findings as a table, files, risk objects) at a time. What is shown is worked out by a source:
// the report's model (model.js) on this page for a small report, or the worker holding
// a large one, which answers with the page asked for; so 100 k findings or files render
// with the main thread never blocked for long. A part that cannot be shown says so in
// its place and nothing else is lost. Only text nodes carry report strings: see dom.js.
import { el, fieldTable, count, guarded, pagerBar, pagedList, pagerFocus, restorePagerFocus } from "./dom.js";
import { ReportModel } from "./model.js";
import { copyButton } from "./detail.js";
import { choice, tableFrame, drawTable, closeDetail, openFinding } from "./findings-table.js";

const modelSources = new WeakMap();

/**
 * A report held on this page as a source: its model's answers, at once but for the core's
 * answer to new suppression rules, which `suppression(rules)` asks of the worker.
 */
export function modelSource(report, suppression = null) {
  let source = modelSources.get(report);
  if (!source) {
    const model = new ReportModel(report);
    const view = async (query) => {
      if (suppression && model.needsSuppression(query.rules)) model.setSuppression(query.rules, await suppression(query.rules));
      return model.view(query);
    };
    source = { head: model.head(), view, files: (list, page) => model.files(list, page),
      full: (indexes) => indexes.map((index) => model.report.findings[index]) };
    modelSources.set(report, source);
  }
  return source;
}

/** What is on screen: the source, the user's choices, the filter and the pages turned. */
let shown = null;

/**
 * Renders a report. `source` answers what the page shows of it (see model.js): `head`,
 * `view(query)`, `files(list, page)` and `full(indexes)` (the full findings of a row that
 * opens), at once or as promises; by default the model of
 * `report`, held on this page. `view` holds what the user chose: rules, threshold,
 * showSuppressed, cases (case-state.js) and
 * setCase(item, change), called when the user sets a row's status or note. Resolves once drawn, to
 * `{ rowFields }` (the fields of the findings' rows), or to null when a newer render
 * took over.
 */
export async function renderReport(report, view, source = modelSource(report)) {
  if (shown?.source !== source) {
    shown = { source, pages: {}, draws: 0 };
    choice.page = 0;
    closeDetail();
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
    ["Files not read (none of their records could be read)", source.head.unreadableCount ?? 0],
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

// Findings: the table (findings-table.js), the open finding below it, then what each detection is.

/** Asks the source for the findings and risk on screen and draws them; false when superseded. */
async function drawFindings(state) {
  const draw = ++state.draws;
  const { view, pages, source } = state;
  const { needle, facets, sort, page } = choice;
  const query = { rules: view.rules, showSuppressed: Boolean(view.showSuppressed), needle, facets, sort, page, cases: view.cases ?? {}, pages, open: choice.open };
  const data = await source.view(query);
  if (shown !== state || state.draws !== draw) return false;
  const f = tableFrame(() => drawFindings(state));
  const container = document.getElementById("findings");
  if (container.firstChild !== f.input) {
    container.replaceChildren(f.input, f.facets, f.status, f.pager, f.region, f.empty, f.detail,
      el("h3", { text: "The detections" }), ...source.head.detections.map((detection) => guarded("This detection", () => renderAbout(detection))));
  }
  drawTable(data, { showSuppressed: Boolean(view.showSuppressed), setCase: view.setCase ?? (() => {}), full: source.full });
  renderHeadline(source.head, data, Boolean(view.showSuppressed));
  const turn = (page) => {
    state.pages = { ...state.pages, risk: page };
    const seen = pagerFocus();
    drawFindings(state).then(() => restorePagerFocus(seen));
  };
  // Risk depends on the rules, not on the findings' page: it is drawn again only when it changed.
  const riskKey = JSON.stringify([data.risk, view.threshold]);
  if (state.riskKey !== riskKey) {
    state.riskKey = riskKey;
    document.getElementById("risk").replaceChildren(guarded("Risk by object", () => renderRisk(data.risk, view.threshold, turn)));
  }
  return true;
}

/** The first thing seen after an analysis: how many findings, how many suppressed, which files were not read. */
function renderHeadline(head, data, showSuppressed) {
  const unread = head.unreadableCount ?? 0;
  document.getElementById("headline").replaceChildren(
    el("p", { class: "headline-counts" },
      el("strong", { text: `${count(data.findings)} finding${data.findings === 1 ? "" : "s"}` }),
      ` (${count(data.active)} active, ${count(data.suppressed)} suppressed${data.suppressed && !showSuppressed ? ", hidden" : ""}) in ${count(data.rowCount)} rows`,
      ` · ${count(head.counts.files)} file${head.counts.files === 1 ? "" : "s"}`,
      unread ? el("strong", { class: "error", text: ` · ${count(unread)} not read` }) : ""),
    unread ? el("div", { class: "unreadable", role: "alert" },
      el("p", {}, el("strong", { text: `${count(unread)} file${unread === 1 ? "" : "s"} could not be read at all` }), "; nothing in them was analysed:"),
      el("ul", {}, head.unreadable.map((file) => el("li", {}, el("code", { text: file.name }), `: ${file.error}`))),
      unread > head.unreadable.length ? el("p", { text: `…and ${count(unread - head.unreadable.length)} more (in the summary's file table).` }) : "") : "");
}

function renderAbout(detection) {
  return el("details", { class: "about", "data-detection-id": detection.id },
    el("summary", {}, detection.name, " ", el("span", { class: "tag", text: detection.type })),
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
}

// Risk: the published findings' risk, totalled per risk object, without those suppressed;
// each contributing finding a link that opens it in the findings table's detail panel.

function renderRisk(risk, threshold, turn) {
  return el("div", {},
    el("p", { class: "none", text: `Risk from findings as published, totalled per risk object as Splunk ES does; objects at or above the threshold (${threshold}) would raise a risk incident. Each contributing finding opens in the table above.` }),
    risk.total
      ? el("div", {}, pagerBar(risk, turn, "Pages of risk objects"), el("table", { class: "risk-totals" },
          el("thead", {}, el("tr", {}, ["Risk object", "Type", "Total score", "Contributing findings"].map((h) => el("th", { scope: "col", text: h })))),
          el("tbody", {}, risk.items.map((row) => guarded("This risk object", () => riskRow(row, threshold), "tr")))))
      : el("p", { class: "none", text: "No risk: no findings." }));
}

function riskRow({ object, type, score, contributing, names: shownNames, indexes = [], error }, threshold) {
  if (error) throw new Error(error);
  const more = contributing - shownNames.length;
  const links = shownNames.map((name, i) => {
    const link = el("a", { href: "#finding-detail", class: "risk-finding", "data-index": indexes[i], text: name });
    link.addEventListener("click", (event) => {
      event.preventDefault();
      openFinding(indexes[i]);
    });
    return el("li", {}, link);
  });
  return el("tr", { class: score >= threshold ? "over-threshold" : null },
    el("td", { text: object }), el("td", { text: type }),
    el("td", {}, String(score), score >= threshold ? el("span", { class: "badge sev-high", text: `≥ ${threshold}` }) : null),
    el("td", {}, el("ul", { class: "risk-findings" }, links), more > 0 ? el("span", { text: `and ${count(more)} more` }) : null));
}
