// One finding: its line in a list and, built when first opened, its panels: the
// output row, why it matched, risk, annotations, process tree, timeline and the events
// behind it, each as it was in the file and copyable. Each panel is built on its own,
// so one that fails leaves the others.
import { el, fieldTable, count, reason, guarded, pagedList, display } from "./dom.js";
import { treePicture } from "./tree.js";
import { timelinePicture } from "./timeline.js";

/** Events of one finding shown at a time. */
const EVENTS_PAGE = 50;

/** A Copy button for `text`; `what` names it for screen readers ("Copy the event"). */
export function copyButton(text, what = null, caption = "Copy") {
  const button = el("button", { type: "button", class: "copy", text: caption, "aria-label": what });
  // The name read out keeps the words shown: it changes with them.
  const say = (words) => {
    button.textContent = words;
    if (what) button.setAttribute("aria-label", `${words}: ${what}`);
  };
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      say("Copied");
    } catch {
      say("Select the text to copy");
    }
  });
  return button;
}

/** One TSV field: quoted when it holds a tab, line break or quote, as spreadsheets read it. */
const tsvField = (value) => (/[\t\n\r"]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** The output row as TSV: a line of field names, then a line of values. */
export function rowTsv(row) {
  const entries = Object.entries(row);
  return `${entries.map(([name]) => tsvField(name)).join("\t")}\n${entries.map(([, value]) => tsvField(display(value))).join("\t")}\n`;
}

/** Name/value rows, each value with its own Copy button. */
function copyableFields(entries, className, whose) {
  return el("table", { class: className },
    el("tbody", {}, entries.map(([name, value]) => el("tr", {},
      el("th", { scope: "row", text: name }),
      el("td", { text: display(value) }),
      el("td", { class: "copy-cell" }, copyButton(display(value), `Copy ${name} of ${whose}`))))));
}

/** One event behind a finding: where it is, its record as it was in the file, and its fields. */
function eventView(event, number) {
  const where = `${event.file} · ${event.position}`;
  const whose = `event ${number} (${where})`;
  const raw = event.raw;
  const record = raw
    ? el("div", { class: "record" },
      el("div", { class: "record-tools" },
        copyButton(raw.text, `Copy ${whose} as it was in the file`, "Copy event"),
        raw.truncated ? el("span", { class: "truncated", text: `truncated: first ${count(raw.text.length)} characters of ${count(raw.bytes)} bytes` }) : null),
      el("pre", { class: "raw", tabindex: 0, role: "region", "aria-label": `Record of ${whose}` }, raw.text))
    : el("p", { class: "record-missing", role: "note", text: "The record's text was not kept: the analysis's budget for record text was spent." });
  return el("details", { class: "event", open: number === 1 },
    el("summary", { text: `${where} · EventID ${event.event_id} · ${event._time ?? "no time"}` }),
    record,
    copyableFields(Object.entries(event.fields), "fields raw", whose));
}

/**
 * A finding's line (`item` is `{ index, finding, rule }`); its panels are built when it is first
 * opened, or at once when `open` (the browser's `toggle` event comes a task later).
 */
export function findingPanel({ index, finding, rule }, { open: openNow = false } = {}) {
  try {
    const risk = finding.risk;
    const notes = finding.explanation.notes;
    const summary = el("summary", {},
      el("span", { class: `badge sev-${risk.severity}`, text: `${risk.severity} · ${risk.score}` }),
      el("span", { class: "message", text: risk.message }),
      rule ? el("span", { class: "tag", text: `suppressed: ${rule.field} ${rule.match} ${rule.value}` }) : null,
      // Where the two readings part is shown without opening the finding.
      notes.length ? el("ul", { class: "notes" }, notes.map((n) => el("li", { text: n }))) : null);
    const details = el("details", { class: `finding sev-${risk.severity}${rule ? " suppressed" : ""}`, "data-mode": finding.mode, "data-index": index }, summary);
    let opened = false;
    const open = () => {
      if (opened) return;
      opened = true;
      details.append(el("div", { class: "finding-body" }, findingParts(finding, index)));
    };
    summary.addEventListener("click", open); // before the browser opens it, so the panels are there when it does
    details.addEventListener("toggle", () => details.open && open());
    if (openNow) {
      open();
      details.open = true;
    }
    return details;
  } catch (err) {
    return el("div", { class: "finding finding-error", role: "note", "data-index": index, text: `This finding could not be shown: ${reason(err)}` });
  }
}

/** A finding's panels, each on its own: one that fails leaves the others. */
export function findingParts(finding, index) {
  const part = (title, build) => el("div", { class: "part" }, el("h4", { text: title }), guarded(`This part (${title})`, build));
  const detail = el("div", { class: "node-detail", "aria-live": "polite" });
  const showNode = (node, connections) => detail.replaceChildren(fieldTable([
    ["Image", node.image], ["pid", node.pid], ["Host", node.host], ["User", node.user], ["Command line", node.command_line],
    ["Started", node.time], ["Event", node.location],
    ...connections.map((c) => ["Connection", `${c.time ?? ""} → ${c.dest_host ?? c.dest_ip ?? "?"}:${c.dest_port ?? "?"} (${c.location})`])], "fields node"));
  const risk = finding.risk;
  const explanation = finding.explanation;
  return [
    part(finding.mode === "hardened" ? "Output row" : "Output row, as the search prints it", () => el("div", {},
      copyButton(rowTsv(finding.row), `Copy row as TSV (finding ${index + 1})`, "Copy row as TSV"),
      fieldTable(Object.entries(finding.row), "fields row"))),
    part("Why it matched", () => el("div", {},
      el("ul", { class: "conditions" }, explanation.conditions.map((c) => el("li", { text: c }))),
      el("table", { class: "provenance" },
        el("thead", {}, el("tr", {}, ["Field", "From", "Raw value"].map((h) => el("th", { text: h })))),
        el("tbody", {}, explanation.provenance.map((p) => el("tr", {},
          el("td", { text: p.field }), el("td", { text: `${p.raw_field} (${p.event})` }), el("td", { text: p.raw_value ?? "absent" }))))),
      el("p", { class: "time-source", text: `_time from ${explanation.time_source ?? "no time field"}` }))),
    part("Risk", () => fieldTable([
      ["Risk message", risk.message],
      ["Score", risk.impact != null ? `${risk.score} (impact ${risk.impact} × confidence ${risk.confidence} / 100)` : risk.score],
      ["Severity", risk.severity],
      ...risk.risk_objects.map((o) => [`Risk object (${o.type}, ${o.field})`, `${o.value} +${o.score}`]),
      ...risk.threat_objects.map((o) => [`Threat object (${o.field})`, o.value]),
    ], "fields risk")),
    part("Annotations", () => fieldTable([
      [`MITRE ATT&CK (v${finding.annotations.attack_version})`, finding.annotations.mitre_attack.map((t) =>
        `${t.id} ${t.name} — ${t.tactics.map((tactic) => `${tactic.name} (${tactic.id})`).join(", ")}; ${t.tactic_from_v19} from ATT&CK v19`).join("; ")],
      ["Kill chain phase", finding.annotations.kill_chain_phases.join(", ")],
      ["NIST", finding.annotations.nist.join(", ")],
      ["CIS", finding.annotations.cis20.join(", ")],
      ["Analytic story", finding.annotations.analytic_story.join(", ")],
    ], "fields annotations")),
    part("Process tree", () => treePicture(finding.process_tree, showNode)),
    detail,
    part("Timeline (UTC)", () => timelinePicture(finding.process_tree, new Set(finding.events.map((e) => `${e.file}, ${e.position}`)))),
    part(`Events behind this finding (${count(finding.events.length)})`, () => {
      const events = pagedList((page) => ({ total: finding.events.length, page, size: EVENTS_PAGE, items: finding.events.slice(page * EVENTS_PAGE, (page + 1) * EVENTS_PAGE) }),
        (event) => guarded("This event", () => eventView(event, finding.events.indexOf(event) + 1)), { label: `Pages of the events behind finding ${index + 1}` });
      return el("div", {}, events.bar, events.list);
    }),
  ];
}
