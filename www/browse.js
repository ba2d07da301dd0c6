/**
 * Processes and connections beyond the findings: every process creation and network
 * connection the analysis holds, a page at a time from the worker, which filters and
 * sorts them over its rows (a million rows never come to the page); each row opens its
 * process tree below the table. Every value from a log is written as text.
 */
import { el, count, fieldTable, pagerBar, pagerFocus, restorePagerFocus, reason } from "./dom.js";
import { treePicture } from "./tree.js";

const PAGE = 100;
const FILTER_DELAY_MS = 250;
const LISTS = {
  processes: { label: "Process creations", noun: "process creations" },
  connections: { label: "Connections", noun: "connections" },
};
const COLUMNS = {
  processes: [["time", "Time (UTC)"], ["host", "Host"], ["image", "Image"], ["command_line", "Command line"],
    ["user", "User"], ["pid", "PID"], ["parent", "Parent"]],
  connections: [["time", "Time (UTC)"], ["host", "Host"], ["image", "Image"], ["command_line", "Command line"],
    ["user", "User"], ["pid", "PID"], ["destination", "Destination"]],
};

/** What is asked, kept across analyses: list, filter, sort column and direction, page. */
const state = { list: "processes", filter: "", sort: "time", descending: false, page: 0 };

/** A cell's text. */
function cell(row, key) {
  if (key === "parent") return row.parent_pid ? `${row.parent ?? "?"} (${row.parent_pid})` : row.parent ?? "";
  return row[key] ?? "";
}

/**
 * Fills `section` with the browser of the report the worker holds; `ask(msg)` sends a
 * question to the worker and resolves to its parsed answer.
 */
export function showBrowse(section, ask) {
  let asked = 0;
  const tabs = el("div", { class: "browse-lists", role: "group", "aria-label": "List" });
  const filter = el("input", { type: "search", id: "browse-filter", value: state.filter, autocomplete: "off" });
  const status = el("p", { class: "browse-status", role: "status" });
  const table = el("table", { class: "browse-table" });
  const region = el("div", { class: "browse-scroll", tabindex: 0, role: "region", "aria-label": "Processes and connections table" }, table);
  const pager = el("nav", { class: "pager", "aria-label": "Pages of processes and connections" });
  const panel = el("div", { class: "browse-tree" });
  section.replaceChildren(
    el("h2", { id: "browse-title", text: "Processes and connections" }),
    el("p", { class: "browse-intro", text: "Every process creation and network connection read, not only those behind findings." }),
    el("div", { class: "browse-controls" }, tabs,
      el("label", { for: "browse-filter", text: "Filter " }), filter),
    status, region, pager, panel);

  const switches = Object.entries(LISTS).map(([list, { label }]) => {
    const button = el("button", { type: "button", text: label, "data-list": list });
    button.addEventListener("click", () => {
      if (state.list === list) return;
      state.list = list;
      state.sort = "time";
      state.descending = false;
      state.page = 0;
      showTabs();
      load();
    });
    return button;
  });
  tabs.append(...switches);
  const showTabs = () => switches.forEach((button) => button.setAttribute("aria-pressed", String(button.dataset.list === state.list)));

  const header = () => el("thead", {}, el("tr", {},
    COLUMNS[state.list].map(([key, label]) => {
      const sorted = state.sort === key;
      const button = el("button", { type: "button", class: "sort", text: label });
      button.addEventListener("click", () => {
        state.descending = sorted ? !state.descending : false;
        state.sort = key;
        state.page = 0;
        load(key);
      });
      return el("th", { scope: "col", "aria-sort": sorted ? (state.descending ? "descending" : "ascending") : "none" }, button);
    }),
    el("th", { scope: "col", text: "Tree" })));

  const body = (rows) => el("tbody", {}, rows.map((row, i) => {
    const open = el("button", { type: "button", class: "open-tree", text: "Tree",
      "aria-label": `Tree of ${LISTS[state.list].noun.replace(/s$/, "")} ${count(state.page * PAGE + i + 1)}` });
    const list = state.list;
    open.addEventListener("click", () => showTree(list, row));
    return el("tr", {}, COLUMNS[state.list].map(([key]) => el("td", { class: `col-${key}`, text: cell(row, key) })), el("td", {}, open));
  }));

  async function load(focusSort = null) {
    const mine = ++asked;
    const seen = pagerFocus();
    const query = { list: state.list, filter: state.filter, sort: state.sort, descending: state.descending };
    try {
      const page = await ask({ action: "browse", query, start: state.page * PAGE, count: PAGE });
      if (mine !== asked) return;
      const noun = LISTS[state.list].noun;
      const first = page.start + 1;
      const last = page.start + page.rows.length;
      status.textContent = page.matching === 0
        ? `No ${noun} match (of ${count(page.total)}).`
        : `${count(first)}–${count(last)} of ${count(page.matching)} ${noun}${page.matching < page.total ? ` matching (of ${count(page.total)})` : ""}.`;
      table.replaceChildren(header(), body(page.rows));
      pagerBar({ total: page.matching, page: state.page, size: PAGE }, (to) => { state.page = to; load(); },
        "Pages of processes and connections", pager);
      restorePagerFocus(seen);
      if (focusSort) table.querySelector(`thead th:nth-child(${COLUMNS[state.list].findIndex(([key]) => key === focusSort) + 1}) button`)?.focus();
    } catch (err) {
      if (mine === asked) status.textContent = `The list could not be read: ${reason(err)}`;
    }
  }

  async function showTree(list, row) {
    const title = el("h3", { tabindex: -1, text: `Process tree of ${row.image ?? "a process"} (pid ${row.pid ?? "?"}) on ${row.host ?? "?"}` });
    const detail = el("div", { class: "browse-node", "aria-live": "polite" });
    const content = el("div", {}, el("p", { role: "status", text: "Building the tree…" }));
    panel.replaceChildren(title, content);
    title.focus();
    try {
      const tree = await ask({ action: "browse-tree", list, row: row.row });
      if (!tree || !tree.nodes.length) {
        content.replaceChildren(el("p", { text: "No process of this row was logged." }));
        return;
      }
      const onSelect = (node, connections) => detail.replaceChildren(fieldTable([
        ["Image", node.image ?? ""], ["PID", node.pid ?? ""], ["User", node.user ?? ""], ["Command line", node.command_line ?? ""],
        ["Time", node.time ?? ""], ["Host", node.host], ["Event", node.location ?? ""],
        ...connections.map((c) => ["Connection", `${c.time ?? ""} → ${c.dest_host ?? c.dest_ip ?? "?"}:${c.dest_port ?? "?"}`]),
      ], "fields node"));
      content.replaceChildren(treePicture(tree, onSelect, { subject: "this process" }), detail);
    } catch (err) {
      content.replaceChildren(el("p", { text: `The tree could not be built: ${reason(err)}` }));
    }
  }

  let typing = 0;
  filter.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.filter = filter.value; state.page = 0; load(); }, FILTER_DELAY_MS);
  });
  showTabs();
  return load();
}
