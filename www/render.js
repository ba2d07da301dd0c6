// Renders a report (the same JSON document the CLI prints) into the page.
// Only text nodes carry report strings: see dom.js.
import { el, fieldTable, display } from "./dom.js";

const MODE_NAMES = { as_published: "as published" };

export function renderReport(report) {
  renderSummary(report);
  renderFindings(report);
  renderRisk(report);
}

function renderSummary(report) {
  const s = report.summary;
  const overview = fieldTable([
    ["Files", s.files],
    ["Sysmon events by EventID", eventCounts(s.sysmon_events)],
    ["Other providers' events (skipped, never matched)", s.other_events],
    ["Records that could not be read", s.skipped],
    ["Hosts", s.hosts.join(", ") || "none"],
    ["Users", s.users.join(", ") || "none"],
    ["Time range (UTC)", s.first_time ? `${s.first_time} — ${s.last_time}` : "none"],
  ], "fields summary-table");

  const fileRows = report.files.map((file) =>
    el("tr", { class: file.error ? "file-error" : null },
      el("td", { class: "name", text: file.name }),
      el("td", { text: file.container ? `${file.format} (in ${file.container})` : file.format }),
      el("td", { text: file.encoding }),
      el("td", { text: eventCounts(file.sysmon_events) + (file.flow_records ? `; Cisco NVM flows: ${file.flow_records}` : "") }),
      el("td", { text: file.other_events }),
      el("td", { text: file.skipped_count }),
      el("td", { text: timeSources(file) })));
  const files = el("table", { class: "files" },
    el("thead", {}, el("tr", {}, ["File", "Format", "Encoding", "Sysmon events", "Other", "Skipped", "_time from"].map((h) => el("th", { text: h })))),
    el("tbody", {}, fileRows));

  const problems = report.files.filter((f) => f.error || f.skipped_count > 0).map((file) =>
    el("div", { class: "problems" },
      el("h4", { text: file.name }),
      file.error ? el("p", { class: "error", text: file.error }) : null,
      file.skipped.length ? el("ul", {}, file.skipped.map((skip) => el("li", {}, el("code", { text: skip.position }), ` ${skip.reason}`))) : null,
      file.skipped_count > file.skipped.length ? el("p", { text: `…and ${file.skipped_count - file.skipped.length} more skipped records.` }) : null));

  const gaps = report.files.filter((f) => f.missing_fields.length > 0).map((file) =>
    el("div", { class: "gaps" }, el("h4", { text: file.name }), el("ul", {}, file.missing_fields.map((gap) => el("li", { text: gap })))));

  document.getElementById("summary").replaceChildren(overview, files,
    problems.length ? el("details", { class: "skipped" }, el("summary", { text: "What could not be read" }), problems) : "",
    gaps.length ? el("details", { class: "missing" }, el("summary", { text: "What the detections cannot see in this data" }), gaps) : "");
}

function timeSources(file) {
  const sources = Object.entries(file.time_sources).map(([field, n]) => `${field}: ${n}`).join(", ") || "—";
  return file.time_skew_events ? `${sources} (${file.time_skew_events} differ from UtcTime by over 1 s)` : sources;
}

function eventCounts(counts) {
  const entries = Object.entries(counts);
  return entries.length ? entries.map(([id, n]) => `EID ${id}: ${n}`).join(", ") : "none";
}

function renderFindings(report) {
  const container = document.getElementById("findings");
  const filter = el("input", { type: "search", id: "finding-filter", placeholder: "Filter findings by any value (host, user, process…)", "aria-label": "Filter findings" });
  const groups = report.detections.map((detection) => renderDetection(detection, report.findings.filter((f) => f.detection_id === detection.id)));
  filter.addEventListener("input", () => {
    const needle = filter.value.toLowerCase();
    for (const node of container.querySelectorAll(".finding")) {
      node.hidden = needle !== "" && !node.dataset.search.includes(needle);
    }
  });
  container.replaceChildren(filter, ...groups);
}

function renderDetection(detection, findings) {
  const about = el("details", { class: "about" },
    el("summary", { text: "About this detection" }),
    el("p", { text: detection.description }),
    fieldTable([
      ["ID", detection.id],
      ["Version", detection.version],
      ["Type", detection.type],
      ["Author", detection.author],
      ["Data sources", detection.data_sources.join(", ")],
      ["How to implement", detection.how_to_implement],
      ["Known false positives", detection.known_false_positives],
    ]),
    el("h4", { text: "What the published search does" }),
    el("ul", { class: "quirks" }, detection.published_quirks.map((q) => el("li", { text: q }))),
    el("h4", { text: "Search (SPL)" }),
    el("pre", { class: "spl", text: detection.search }));
  return el("section", { class: "detection", "data-detection-id": detection.id },
    el("h3", {},
      detection.name,
      el("span", { class: "tag", text: detection.type }),
      el("span", { class: "count", text: `${findings.length} finding${findings.length === 1 ? "" : "s"}` })),
    about,
    findings.length ? findings.map(renderFinding) : el("p", { class: "none", text: "No findings." }));
}

function renderFinding(finding) {
  const risk = finding.risk;
  const search = Object.values(finding.row).map(display).join("\u0000").toLowerCase();
  const attack = finding.annotations.mitre_attack.map((t) =>
    `${t.id} ${t.name} — ${t.tactics.map((tactic) => `${tactic.name} (${tactic.id})`).join(", ")}`).join("; ");
  return el("details", { class: `finding sev-${risk.severity}`, "data-search": search },
    el("summary", {},
      el("span", { class: `badge sev-${risk.severity}`, text: `${risk.severity} · ${risk.score}` }),
      el("span", { class: "mode", text: MODE_NAMES[finding.mode] ?? finding.mode }),
      el("span", { class: "message", text: risk.message })),
    el("div", { class: "finding-body" },
      el("h4", { text: "Output row, as the search prints it" }),
      fieldTable(Object.entries(finding.row), "fields row"),
      el("h4", { text: "Risk" }),
      fieldTable([
        ["Risk message", risk.message],
        ["Score", risk.impact != null ? `${risk.score} (impact ${risk.impact} × confidence ${risk.confidence} / 100)` : risk.score],
        ["Severity", risk.severity],
        ...risk.risk_objects.map((o) => [`Risk object (${o.type}, ${o.field})`, `${o.value} +${o.score}`]),
        ...risk.threat_objects.map((o) => [`Threat object (${o.field})`, o.value]),
      ], "fields risk"),
      el("h4", { text: "Annotations" }),
      fieldTable([
        [`MITRE ATT&CK (v${finding.annotations.attack_version})`, attack],
        ["Kill chain phase", finding.annotations.kill_chain_phases.join(", ")],
        ["NIST", finding.annotations.nist.join(", ")],
        ["CIS", finding.annotations.cis20.join(", ")],
        ["Analytic story", finding.annotations.analytic_story.join(", ")],
      ], "fields annotations"),
      el("h4", { text: `Events behind this finding (${finding.events.length})` }),
      finding.events.map((event) =>
        el("details", { class: "event" },
          el("summary", { text: `${event.file} · ${event.position} · EventID ${event.event_id} · ${event._time ?? "no time"}` }),
          fieldTable(Object.entries(event.fields), "fields raw")))));
}

function renderRisk(report) {
  const rows = report.risk_totals.map((total) =>
    el("tr", {}, el("td", { text: total.object }), el("td", { text: total.type }), el("td", { text: total.score }), el("td", { text: total.findings })));
  document.getElementById("risk").replaceChildren(rows.length
    ? el("table", { class: "risk-totals" },
        el("thead", {}, el("tr", {}, ["Risk object", "Type", "Total score", "Findings"].map((h) => el("th", { text: h })))),
        el("tbody", {}, rows))
    : el("p", { class: "none", text: "No risk: no findings." }));
}
