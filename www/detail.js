// One finding: its line in a list and, built when first opened, its panels: the
// output row, why it matched, risk, annotations, process tree, timeline and the events
// behind it. Each panel is built on its own, so one that fails leaves the others.
import { el, fieldTable, count, reason, guarded, pagedList } from "./dom.js";
import { treePicture, timelinePicture } from "./tree.js";

/** Events of one finding shown at a time. */
const EVENTS_PAGE = 50;

export function copyButton(text) {
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

/** A finding's line (`item` is `{ index, finding, rule }`); its panels are built when it is first opened. */
export function findingPanel({ index, finding, rule }) {
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
    return details;
  } catch (err) {
    return el("div", { class: "finding finding-error", role: "note", "data-index": index, text: `This finding could not be shown: ${reason(err)}` });
  }
}

/** A finding's panels, each on its own: one that fails leaves the others. */
function findingParts(finding, index) {
  const part = (title, build) => el("div", { class: "part" }, el("h4", { text: title }), guarded(`This part (${title})`, build));
  const detail = el("div", { class: "node-detail", "aria-live": "polite" });
  const showNode = (node, connections) => detail.replaceChildren(fieldTable([
    ["Image", node.image], ["pid", node.pid], ["Host", node.host], ["User", node.user], ["Command line", node.command_line],
    ["Started", node.time], ["Event", node.location],
    ...connections.map((c) => ["Connection", `${c.time ?? ""} → ${c.dest_host ?? c.dest_ip ?? "?"}:${c.dest_port ?? "?"} (${c.location})`])], "fields node"));
  const risk = finding.risk;
  const explanation = finding.explanation;
  return [
    part(finding.mode === "hardened" ? "Output row" : "Output row, as the search prints it", () => fieldTable(Object.entries(finding.row), "fields row")),
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
    part("Process tree", () => scrollBox("Process tree", treePicture(finding.process_tree, showNode))),
    detail,
    part("Timeline", () => scrollBox("Timeline", timelinePicture(finding.process_tree))),
    part(`Events behind this finding (${count(finding.events.length)})`, () => {
      const events = pagedList((page) => ({ total: finding.events.length, page, size: EVENTS_PAGE, items: finding.events.slice(page * EVENTS_PAGE, (page + 1) * EVENTS_PAGE) }),
        (event) => guarded("This event", () => el("details", { class: "event" },
          el("summary", { text: `${event.file} · ${event.position} · EventID ${event.event_id} · ${event._time ?? "no time"}` }),
          fieldTable(Object.entries(event.fields), "fields raw"))), { label: `Pages of the events behind finding ${index + 1}` });
      return el("div", {}, events.bar, events.list);
    }),
  ];
}

/** A picture that may be wider than the page, in a box that scrolls sideways and so takes the keyboard focus. */
const scrollBox = (label, picture) => el("div", { class: "tree-box", tabindex: 0, role: "region", "aria-label": label }, picture);
