// Renders a report (the same JSON document the CLI prints) into the page.
// Only text nodes carry report strings: see dom.js.
import { el, fieldTable, display } from "./dom.js";
import { treePicture, timelinePicture } from "./tree.js";

const MODE_NAMES = { as_published: "as published", hardened: "hardened" };

/** `view` holds what the user chose: suppression (a function), threshold, showSuppressed. */
export function renderReport(report, view) {
  renderSummary(report);
  renderFindings(report, view);
  renderRisk(report, view);
}

function renderSummary(report) {
  const s = report.summary;
  const overview = fieldTable([
    ["Files", s.files],
    ["Sysmon events by EventID", eventCounts(s.sysmon_events)],
    ["Other providers' events (skipped, never matched)", s.other_events],
    ["Records that could not be read", s.skipped],
    ["Hosts (process and network events)", s.hosts.join(", ") || "none"],
    ["Users", s.users.join(", ") || "none"],
    ["Time range of process and network events (UTC)", s.first_time ? `${s.first_time} — ${s.last_time}` : "none"],
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

function renderFindings(report, view) {
  const container = document.getElementById("findings");
  const filter = el("input", { type: "search", id: "finding-filter", placeholder: "Filter findings by any value (host, user, process…)", "aria-label": "Filter findings" });
  const groups = report.detections.map((detection) =>
    renderDetection(detection, report.findings.filter((f) => f.detection_id === detection.id), view));
  filter.addEventListener("input", () => {
    const needle = filter.value.toLowerCase();
    for (const node of container.querySelectorAll(".finding")) {
      node.classList.toggle("filtered-out", needle !== "" && !node.dataset.search.includes(needle));
    }
  });
  container.replaceChildren(filter, ...groups);
}

function renderDetection(detection, findings, view) {
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
    const all = findings.filter((f) => f.mode === mode);
    const suppressed = all.filter((f) => view.suppressedBy(f));
    const shown = view.showSuppressed ? all : all.filter((f) => !view.suppressedBy(f));
    return el("div", { class: `mode-column ${mode}`, "data-mode": mode },
      el("h4", {}, MODE_NAMES[mode], el("span", { class: "count", text: `${all.length - suppressed.length} active` }),
        suppressed.length ? el("span", { class: "suppressed-count", text: `${suppressed.length} suppressed` }) : null),
      shown.length ? shown.map((f) => renderFinding(f, view)) : el("p", { class: "none", text: "No findings." }));
  };
  return el("section", { class: "detection", "data-detection-id": detection.id },
    el("h3", {}, detection.name, el("span", { class: "tag", text: detection.type })),
    about,
    el("div", { class: "modes" }, column("as_published"), column("hardened")));
}

function copyButton(text) {
  const button = el("button", { type: "button", class: "copy", text: "Copy" });
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select the text to copy";
    }
  });
  return button;
}

function renderFinding(finding, view) {
  const risk = finding.risk;
  const rule = view.suppressedBy(finding);
  const search = Object.values(finding.row).map(display).join("\u0000").toLowerCase();
  const attack = finding.annotations.mitre_attack.map((t) =>
    `${t.id} ${t.name} — ${t.tactics.map((tactic) => `${tactic.name} (${tactic.id})`).join(", ")}; ${t.tactic_from_v19} from ATT&CK v19`).join("; ");
  const explanation = finding.explanation;
  const detail = el("div", { class: "node-detail", "aria-live": "polite" });
  const tree = finding.process_tree;
  return el("details", { class: `finding sev-${risk.severity}${rule ? " suppressed" : ""}`, "data-search": search, "data-mode": finding.mode },
    el("summary", {},
      el("span", { class: `badge sev-${risk.severity}`, text: `${risk.severity} · ${risk.score}` }),
      el("span", { class: "message", text: risk.message }),
      rule ? el("span", { class: "tag", text: `suppressed: ${rule.field} ${rule.match} ${rule.value}` }) : null,
      // Where the two readings part is shown without opening the finding.
      explanation.notes.length ? el("ul", { class: "notes" }, explanation.notes.map((n) => el("li", { text: n }))) : null),
    el("div", { class: "finding-body" },
      el("h4", { text: finding.mode === "hardened" ? "Output row" : "Output row, as the search prints it" }),
      fieldTable(Object.entries(finding.row), "fields row"),
      el("h4", { text: "Why it matched" }),
      el("ul", { class: "conditions" }, explanation.conditions.map((c) => el("li", { text: c }))),
      el("table", { class: "provenance" },
        el("thead", {}, el("tr", {}, ["Field", "From", "Raw value"].map((h) => el("th", { text: h })))),
        el("tbody", {}, explanation.provenance.map((p) => el("tr", {},
          el("td", { text: p.field }), el("td", { text: `${p.raw_field} (${p.event})` }), el("td", { text: p.raw_value ?? "absent" }))))),
      el("p", { class: "time-source", text: `_time from ${explanation.time_source ?? "no time field"}` }),
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
      el("h4", { text: "Process tree" }),
      el("div", { class: "tree-box" }, treePicture(tree, (node, connections) => detail.replaceChildren(
        fieldTable([["Image", node.image], ["pid", node.pid], ["Host", node.host], ["User", node.user], ["Command line", node.command_line],
          ["Started", node.time], ["Event", node.location],
          ...connections.map((c) => ["Connection", `${c.time ?? ""} → ${c.dest_host ?? c.dest_ip ?? "?"}:${c.dest_port ?? "?"} (${c.location})`])], "fields node")))),
      detail,
      el("h4", { text: "Timeline" }),
      el("div", { class: "tree-box" }, timelinePicture(tree)),
      el("h4", { text: `Events behind this finding (${finding.events.length})` }),
      finding.events.map((event) =>
        el("details", { class: "event" },
          el("summary", { text: `${event.file} · ${event.position} · EventID ${event.event_id} · ${event._time ?? "no time"}` }),
          fieldTable(Object.entries(event.fields), "fields raw")))));
}

function renderRisk(report, view) {
  const active = report.findings.map((f) => !view.suppressedBy(f));
  const totals = report.risk_totals.map((t) => {
    const contributing = t.contributing.filter((i) => active[i]);
    const score = contributing.reduce((sum, i) => sum + report.findings[i].risk.risk_objects.find((o) => o.value === t.object && o.type === t.type).score, 0);
    return { ...t, contributing, score };
  }).filter((t) => t.contributing.length > 0).sort((a, b) => b.score - a.score || a.object.localeCompare(b.object));
  const rows = totals.map((total) => el("tr", { class: total.score >= view.threshold ? "over-threshold" : null },
    el("td", { text: total.object }), el("td", { text: total.type }),
    el("td", {}, String(total.score), total.score >= view.threshold ? el("span", { class: "badge sev-high", text: `≥ ${view.threshold}` }) : null),
    el("td", { text: total.contributing.map((i) => `${report.findings[i].detection} (${report.findings[i].risk.score})`).join("; ") })));
  document.getElementById("risk").replaceChildren(
    el("p", { class: "none", text: `Risk from findings as published, totalled per risk object as Splunk ES does; objects at or above the threshold (${view.threshold}) would raise a risk incident.` }),
    rows.length
      ? el("table", { class: "risk-totals" },
          el("thead", {}, el("tr", {}, ["Risk object", "Type", "Total score", "Contributing findings"].map((h) => el("th", { text: h })))),
          el("tbody", {}, rows))
      : el("p", { class: "none", text: "No risk: no findings." }));
}
