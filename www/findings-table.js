/**
 * The findings as a table an analyst can work through: one row per finding (the two
 * readings' findings one row where they agree), sortable by every column, narrowed by
 * facets with counts and by a text filter, a status per row, and the open finding in a
 * panel the whole content width below. What the user chose (filter, facets, sort) is
 * kept here, apart from any report, so that it outlasts re-analysis and settings changes.
 * The rows themselves come from a source's `view` (model.js); report strings go in as
 * text only (dom.js).
 */
import { el, count, pagerBar, pagerFocus, restorePagerFocus } from "./dom.js";
import { findingPanel } from "./detail.js";
import { STATUSES } from "./case-state.js";

const FACET_NAMES = { detection: "Detection", reading: "Reading", severity: "Severity", host: "Host", user: "User", status: "Status" };
const COLUMNS = [
  ["time", "Time (UTC)"], ["detection", "Detection"], ["severity", "Severity · score"], ["host", "Host"], ["user", "User"],
  ["process", "Parent → process"], ["pid", "PID"], ["reading", "Reading"], ["status", "Status"],
];
const READING_TEXT = { both: "both", published: "published only", hardened: "hardened only" };
const MODE_TITLES = { as_published: "As published", hardened: "Hardened" };
const FILTER_DELAY_MS = 150;

/** What the user chose; survives every redraw, re-analysis and settings change. `open`: a finding to open. */
export const choice = { needle: "", facets: {}, sort: null, page: 0, open: null };

let frame = null;
/** Called when the choice changes or a status is set: redraws the findings. */
let redraw = () => {};
/** The open finding's row key, and where its panel is. */
let openKey = null;

/** The parts of the findings section, made once so that typing and focus are never lost. */
export function tableFrame(onChange) {
  redraw = onChange;
  if (frame) return frame;
  const input = el("input", { type: "search", id: "finding-filter", placeholder: "Filter by any value: host, user, command line, file name, raw event value, note…", "aria-label": "Filter findings" });
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      choice.needle = input.value.trim().toLowerCase();
      choice.page = 0;
      redraw();
    }, FILTER_DELAY_MS);
  });
  const sortButtons = {};
  const head = el("tr", {}, COLUMNS.map(([column, title]) => {
    const button = el("button", { type: "button", class: "sort", "data-column": column, text: title });
    button.addEventListener("click", () => {
      const same = choice.sort?.column === column;
      choice.sort = { column, descending: same ? !choice.sort.descending : column === "severity" };
      choice.page = 0;
      redraw();
    });
    sortButtons[column] = button;
    return el("th", { scope: "col", "data-column": column }, button);
  }));
  const body = el("tbody");
  const table = el("table", { class: "findings-table", id: "findings-table" }, el("caption", { class: "visually-hidden", text: "Findings" }), el("thead", {}, head), body);
  const clearFilters = el("button", { type: "button", id: "clear-filters", text: "Clear filter and facets" });
  clearFilters.addEventListener("click", () => {
    input.value = "";
    Object.assign(choice, { needle: "", facets: {}, page: 0 });
    redraw();
  });
  frame = {
    input, head, body, table, sortButtons, clearFilters,
    facets: el("div", { class: "facets", id: "facets", role: "group", "aria-label": "Narrow findings by" }),
    status: el("p", { class: "finding-status", id: "finding-status", role: "status" }),
    empty: el("p", { class: "none no-match", hidden: true }),
    region: el("div", { class: "table-box", role: "region", "aria-label": "Findings table", tabindex: 0 }, table),
    pager: el("nav", { class: "pager", "aria-label": "Pages of findings" }),
    detail: el("section", { class: "finding-detail", id: "finding-detail", "aria-label": "The open finding", hidden: true }),
  };
  return frame;
}

/**
 * Draws `data` (a model view) into the frame; `setCase(item, change)` keeps a status or note,
 * `full(indexes)` resolves to the full findings of those report indexes (a row opening).
 */
export function drawTable(data, { showSuppressed, setCase, full }) {
  const f = frame;
  const focusKey = document.activeElement?.dataset?.focusKey;
  const pagerSeen = pagerFocus();
  if (f.input.value.trim().toLowerCase() !== choice.needle) f.input.value = choice.needle;
  for (const [column, button] of Object.entries(f.sortButtons)) {
    const th = button.parentElement;
    if (data.sort.column === column) th.setAttribute("aria-sort", data.sort.descending ? "descending" : "ascending");
    else th.removeAttribute("aria-sort");
  }
  f.facets.replaceChildren(...Object.entries(data.facets).map(([facet, values]) => facetGroup(facet, values)));
  const narrowed = Boolean(choice.needle) || Object.values(choice.facets).some((list) => list.length);
  f.status.textContent = `${count(data.listed)} of ${count(data.rowCount - (showSuppressed ? 0 : data.suppressedRows))} rows listed`
    + `${choice.needle ? ` (matching “${choice.needle}”)` : ""}; ${count(data.findings)} findings: ${count(data.active)} active, `
    + `${count(data.suppressed)} suppressed${data.suppressed && !showSuppressed ? " (hidden)" : ""}.`;
  f.body.replaceChildren(...data.rows.items.map((item) => tableRow(item, { setCase, full })));
  f.empty.hidden = data.listed > 0;
  f.empty.replaceChildren(data.rowCount === 0 ? "No findings." : "No finding matches the filter and facets chosen. ", narrowed ? f.clearFilters : "");
  f.region.hidden = data.listed === 0;
  pagerBar(data.rows, (page) => {
    choice.page = page;
    redraw();
  }, "Pages of findings", f.pager);
  if (data.opened && choice.open !== null) {
    choice.open = null;
    const opener = document.querySelector(`[data-focus-key="${CSS.escape(`open ${data.opened.key}`)}"]`);
    showDetail(data.opened, setCase, opener);
    f.detail.scrollIntoView({ block: "start" });
  }
  const openItem = data.rows.items.find((item) => item.key === openKey);
  const detailStatus = f.detail.querySelector("select.status-select");
  if (openItem && detailStatus) detailStatus.value = openItem.status;
  restorePagerFocus(pagerSeen);
  if (focusKey) document.querySelector(`[data-focus-key="${CSS.escape(focusKey)}"]`)?.focus();
}

/** The facets shown open: at first reading and severity; then as the user leaves them. */
const openFacets = new Set(["reading", "severity"]);

function facetGroup(facet, values) {
  const chosen = values.filter((v) => v.chosen).length;
  const group = el("details", { class: "facet", "data-facet": facet, open: chosen > 0 || openFacets.has(facet) ? true : null },
    el("summary", { text: `${FACET_NAMES[facet]}${chosen ? ` (${chosen} chosen)` : ""}` }));
  group.addEventListener("toggle", () => (group.open ? openFacets.add(facet) : openFacets.delete(facet)));
  const list = el("ul", {});
  for (const value of values) {
    const box = el("input", { type: "checkbox", checked: value.chosen, "data-focus-key": `facet ${facet} ${value.value}` });
    box.addEventListener("change", () => {
      const now = new Set(choice.facets[facet] ?? []);
      if (box.checked) now.add(value.value);
      else now.delete(value.value);
      choice.facets = { ...choice.facets, [facet]: [...now] };
      choice.page = 0;
      redraw();
    });
    list.append(el("li", {}, el("label", {}, box, ` ${value.label} `, el("span", { class: "facet-count", text: `(${count(value.count)})` }))));
  }
  group.append(values.length ? list : el("p", { class: "none", text: "none" }));
  return group;
}

function tableRow(item, { setCase, full }) {
  const { facts, reading, rule, key } = item;
  const open = el("button", { type: "button", class: "open-finding", "aria-expanded": String(openKey === key), "data-focus-key": `open ${key}`, text: facts.detection });
  // A row holds its findings' briefs; the full findings (trees, events) are asked for as it opens.
  open.addEventListener("click", async () => {
    let findings;
    try {
      findings = full(item.members.map((member) => member.index));
      if (!Array.isArray(findings)) {
        // The worker holds the report: the panel says so until the findings come.
        frame.detail.replaceChildren(el("p", { class: "none", role: "status", text: `Opening ${facts.detection}, pid ${facts.pid}…` }));
        frame.detail.hidden = false;
        findings = await findings;
      }
    } catch (err) {
      frame.detail.replaceChildren(el("p", { class: "error", role: "alert", text: `This finding could not be shown: ${err?.message ?? err}` }));
      frame.detail.hidden = false;
      return;
    }
    if (!open.isConnected) return; // redrawn meanwhile
    showDetail({ ...item, members: item.members.map((member, i) => ({ ...member, finding: findings[i] })) }, setCase, open);
  });
  const status = statusButton(item, setCase, `status ${key}`, `Status of ${facts.detection}, ${facts.process}, pid ${facts.pid}`);
  // Absolute UTC times as the row gives them; first and last when they differ.
  const utc = (time) => time.replace("T", " ");
  const time = facts.first === facts.last ? utc(facts.first) : `${utc(facts.first)} – ${utc(facts.last)}`;
  return el("tr", { class: `finding-row${rule ? " suppressed" : ""}${openKey === key ? " open" : ""}`, "data-key": key, "data-reading": reading,
    "data-detection-id": facts.detection_id, "data-modes": item.members.map((m) => m.finding?.mode).join(" ") },
    el("td", { class: "time", text: time || "—" }),
    el("td", {}, open, rule ? el("span", { class: "tag suppressed-tag", text: `suppressed: ${rule.field} ${rule.match} ${rule.value}` }) : null),
    el("td", {}, el("span", { class: `badge sev-${facts.severity}`, text: `${facts.severity} · ${facts.score}` })),
    el("td", { class: "mono", text: facts.host }),
    el("td", { class: "mono", text: facts.user }),
    el("td", { class: "mono", text: `${facts.parent} → ${facts.process}` }),
    el("td", { class: "mono", text: facts.pid }),
    el("td", {}, el("span", { class: `reading reading-${reading}`, text: READING_TEXT[reading] ?? reading }),
      reading !== "both" && facts.notes.length ? el("span", { class: "parted", text: facts.notes[0] }) : null),
    el("td", {}, status, item.note ? el("span", { class: "row-note", text: item.note }) : null));
}

/**
 * A row's status as a button that becomes the status list when pressed: a page of 100
 * `<select>`s costs the browser more to lay out than the rest of the table together.
 */
function statusButton(item, setCase, focusKey, label) {
  const button = el("button", { type: "button", class: "status-button", "aria-haspopup": "listbox", "aria-label": `${label}: ${item.status}`,
    "data-focus-key": focusKey, "data-status": item.status, text: item.status });
  button.addEventListener("click", () => {
    const select = statusSelect(item, setCase, focusKey, label);
    button.replaceWith(select);
    select.focus();
    try {
      select.showPicker(); // the click's user activation allows it
    } catch {
      // a browser without showPicker: the list is focused, and opens by the keyboard or a click
    }
  });
  return button;
}

function statusSelect(item, setCase, focusKey, label) {
  const select = el("select", { class: "status-select", "aria-label": label, "data-focus-key": focusKey },
    STATUSES.map((s) => el("option", { value: s, text: s, selected: s === item.status })));
  select.addEventListener("change", () => setCase(item, { status: select.value }));
  return select;
}

/** Opens a row's findings in the panel below the table, the whole content width. */
function showDetail(item, setCase, opener) {
  const f = frame;
  openKey = item.key;
  for (const button of f.body.querySelectorAll("button.open-finding")) button.setAttribute("aria-expanded", String(button === opener));
  for (const tr of f.body.querySelectorAll("tr.open")) tr.classList.remove("open");
  opener?.closest("tr")?.classList.add("open");
  const { facts } = item;
  const close = el("button", { type: "button", class: "close-detail", text: "Close" });
  close.addEventListener("click", () => {
    openKey = null;
    f.detail.hidden = true;
    f.detail.replaceChildren();
    const back = document.querySelector(`[data-focus-key="${CSS.escape(`open ${item.key}`)}"]`);
    back?.setAttribute("aria-expanded", "false");
    back?.closest("tr")?.classList.remove("open");
    back?.focus();
  });
  const note = el("textarea", { class: "case-note", rows: 2, "aria-label": "Note on this finding", placeholder: "Note (kept in this browser, carried into exports)" });
  note.value = item.note;
  note.addEventListener("change", () => setCase(item, { note: note.value }));
  const heading = el("h3", { tabindex: -1, text: `${facts.detection}: ${facts.parent} → ${facts.process} (pid ${facts.pid}) on ${facts.host || "?"}` });
  const panels = item.members.map((member, i) => findingPanel(member, { open: i === 0 }));
  const readingTitles = item.members.map((member) => el("h4", { class: "reading-title", text: MODE_TITLES[member.finding?.mode] ?? "Of no known reading" }));
  f.detail.replaceChildren(
    el("div", { class: "detail-head" }, heading, close),
    el("div", { class: "case" }, el("label", {}, "Status ", statusSelect(item, setCase, `detail-status ${item.key}`, "Status of this finding")), note),
    el("p", { class: "none", text: item.reading === "both"
      ? "Both readings find this, with the same output row; each reading's finding is below."
      : `Only the ${item.reading} reading finds this.` }),
    ...panels.flatMap((panel, i) => [readingTitles[i], panel]));
  f.detail.hidden = false;
  heading.focus();
}

/** Opens the finding of report index `index` in the panel below the table, wherever its row is listed. */
export function openFinding(index) {
  choice.open = index;
  redraw();
}

/** Closes the open finding (a new report is shown). */
export function closeDetail() {
  openKey = null;
  if (frame) {
    frame.detail.hidden = true;
    frame.detail.replaceChildren();
  }
}
