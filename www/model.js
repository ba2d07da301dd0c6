// What the page shows of a report, worked out apart from the DOM so that it runs where
// the report is held: on the page for a small report, in the worker for a large one
// (100 k findings held as objects on the page would stall it in garbage collection).
// Answers are plain data that can cross to the page: counts, and one page of each long
// list. A malformed finding, file or risk total is passed on as it is, for its own panel
// to say what is wrong with it; it never stops the others from being counted and listed.
import { findingIdentity, stateOf } from "./case-state.js";

/** Items per page of each long list. */
export const PAGE_SIZE = { findings: 50, files: 100, problems: 50, risk: 100 };
/** How many names of a long list (hosts, users, findings behind a risk total) are given. */
export const NAMES_SHOWN = 50;
const MODES = ["as_published", "hardened"];
const READING_OF = { as_published: "published", hardened: "hardened" };
/** What the table can be narrowed by, each with counts. */
export const FACETS = ["detection", "reading", "severity", "host", "user", "status"];
/** Values of a facet listed (the most frequent), besides those chosen. */
const FACET_VALUES_SHOWN = 25;
const SEVERITY_RANK = { informational: 0, low: 1, medium: 2, high: 3, critical: 4 };
const STATUS_RANK = { new: 0, investigating: 1, malicious: 2, benign: 3 };
const byText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
/** How rows compare by each sortable column (`a` and `b` are `{ row, state }`). */
const SORTS = {
  time: (a, b) => byText(a.row.facts.first, b.row.facts.first) || byText(a.row.facts.last, b.row.facts.last),
  detection: (a, b) => byText(a.row.facts.detection, b.row.facts.detection),
  severity: (a, b) => (SEVERITY_RANK[a.row.facts.severity] ?? -1) - (SEVERITY_RANK[b.row.facts.severity] ?? -1) || a.row.facts.score - b.row.facts.score,
  host: (a, b) => byText(a.row.facts.host.toLowerCase(), b.row.facts.host.toLowerCase()),
  user: (a, b) => byText(a.row.facts.user.toLowerCase(), b.row.facts.user.toLowerCase()),
  process: (a, b) => byText(a.row.facts.parent.toLowerCase(), b.row.facts.parent.toLowerCase()) || byText(a.row.facts.process.toLowerCase(), b.row.facts.process.toLowerCase()),
  pid: (a, b) => (Number(a.row.facts.pid) || 0) - (Number(b.row.facts.pid) || 0) || byText(a.row.facts.pid, b.row.facts.pid),
  reading: (a, b) => byText(a.row.reading, b.row.reading),
  status: (a, b) => STATUS_RANK[a.state.status] - STATUS_RANK[b.state.status],
};
export const SORT_COLUMNS = Object.keys(SORTS);
const DEFAULT_SORT = { column: "severity", descending: true };
/** A row's case state: that of its first finding that has one. */
function caseOf(cases, row) {
  for (const identity of row.identities) if (cases[identity]) return stateOf(cases, identity);
  return stateOf(cases, row.identities[0]);
}

const isRecord = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
const columnKey = (detectionId, mode) => `${detectionId}\u0000${mode}`;
const display = (value) => (value === null || value === undefined ? "null" : typeof value === "string" ? value : JSON.stringify(value));

/** The report's lists of files to page through: every file, those with problems, those with gaps. */
const FILE_LISTS = {
  all: () => true,
  problems: (file) => Boolean(file?.error || file?.skipped_count > 0),
  gaps: (file) => file?.missing_fields?.length > 0,
};

/** A page of `list` (clamped to the pages there are): `{ total, page, items }`. */
function pageOf(list, page, size) {
  const last = Math.max(0, Math.ceil(list.length / size) - 1);
  const at = Math.min(Math.max(0, Math.trunc(Number(page) || 0)), last);
  return { total: list.length, page: at, size, items: list.slice(at * size, (at + 1) * size) };
}

export class ReportModel {
  /**
   * `report` is the CLI's document; its findings may be briefs (FindingBrief in src/wasm.rs).
   * Suppression is the core's: `suppress(rules)`, where the core is at hand (the worker),
   * answers `{ by, risk_totals }` (Report.suppression in src/wasm.rs) at once; a model on the
   * page is given the answer for its rules first (`setSuppression`).
   */
  constructor(report, { suppress = null } = {}) {
    this.report = report;
    this.suppress = suppress;
    this.answered = null;
    this.search = new WeakMap();
    this.suppression = null;
    this.rows = null;
    this.riskRows = null;
    this.fileLists = {};
  }

  /** What settings do not change: tool, detections, the summary with its long lists cut, counts, row fields. */
  head() {
    const { tool, summary, detections, files, findings, risk_totals: riskTotals } = this.report;
    const rowFields = new Set();
    for (const finding of findings) if (isRecord(finding?.row)) for (const key of Object.keys(finding.row)) rowFields.add(key);
    const unreadable = files.filter((file) => file?.error);
    const cut = (list) => (Array.isArray(list) ? list.slice(0, NAMES_SHOWN) : list);
    return {
      tool, detections,
      summary: { ...summary, hosts: cut(summary.hosts), users: cut(summary.users), host_count: summary.hosts?.length, user_count: summary.users?.length },
      counts: { files: files.length, findings: findings.length, risk_totals: riskTotals.length },
      unreadable: unreadable.slice(0, NAMES_SHOWN).map((file) => ({ name: display(file?.name), error: display(file?.error) })), unreadableCount: unreadable.length,
      rowFields: [...rowFields],
    };
  }

  /** Keeps the core's answer (`{ by, risk_totals }`) for `rules`, asked of the worker by a model on the page. */
  setSuppression(rules, answer) {
    this.answered = { key: JSON.stringify(rules), answer };
  }

  /** Whether the core's answer for `rules` is still needed. */
  needsSuppression(rules) {
    const key = JSON.stringify(rules ?? []);
    return key !== "[]" && !this.suppress && this.answered?.key !== key;
  }

  /**
   * Per finding, the rule of `query.rules` suppressing it or null, as the core decides; the
   * answer, and the risk totals without the suppressed findings, are kept while the rules stay.
   */
  ruleOf(query) {
    const rules = query.rules ?? [];
    const key = JSON.stringify(rules);
    if (this.suppression?.key !== key) {
      let answer = { by: [], risk_totals: this.report.risk_totals };
      if (rules.length) answer = this.suppress?.(rules) ?? (this.answered?.key === key ? this.answered.answer : null);
      if (!answer) throw new Error("the suppression rules were not applied by the core");
      const ruleOf = this.report.findings.map((_, i) => (Number.isInteger(answer.by[i]) ? rules[answer.by[i]] ?? null : null));
      this.suppression = { key, ruleOf, totals: answer.risk_totals };
    }
    return this.suppression.ruleOf;
  }

  /**
   * The table's rows, made once: one per finding, except that a finding of each reading
   * with the same detection and the same output row are one row, read by "both".
   * `{ key, members: [finding index], reading, facts }`, facts being what the columns show.
   */
  rowsOf() {
    if (this.rows) return this.rows;
    const rows = [];
    const open = new Map();
    this.report.findings.forEach((finding, i) => {
      let key = null;
      try {
        if (MODES.includes(finding.mode)) key = `${finding.detection_id}\u0000${JSON.stringify(finding.row)}`;
      } catch {
        key = null; // a malformed finding: a row of its own
      }
      const same = key === null ? null : open.get(key);
      if (same && !same.modes.includes(finding.mode)) {
        same.modes.push(finding.mode);
        same.members.push(i);
        return;
      }
      const row = { key: `${i}`, members: [i], modes: [finding?.mode] };
      if (key !== null) open.set(key, row);
      rows.push(row);
    });
    for (const row of rows) {
      row.reading = row.modes.length === 2 ? "both" : READING_OF[row.modes[0]] ?? "unknown";
      row.facts = this.factsOf(this.report.findings[row.members[0]], row.reading);
      row.identities = row.members.map((i) => findingIdentity(this.report.findings[i]));
      row.key = row.identities.join(" ");
      delete row.modes;
    }
    this.rows = rows;
    return rows;
  }

  /** What the table's columns show of a finding. */
  factsOf(finding, reading) {
    const row = isRecord(finding?.row) ? finding.row : {};
    const text = (value) => (value === undefined || value === null ? "" : display(value));
    const detection = this.report.detections.find((d) => d.id === finding?.detection_id);
    return {
      first: text(row.firstTime ?? row._time), last: text(row.lastTime ?? row._time),
      detection: text(detection?.name ?? finding?.detection ?? finding?.detection_id), detection_id: text(finding?.detection_id),
      severity: text(finding?.risk?.severity), score: Number(finding?.risk?.score) || 0,
      host: text(row.dest), user: text(row.user), parent: text(row.parent_process_name), process: text(row.process_name),
      pid: text(row.process_id), reading, notes: Array.isArray(finding?.explanation?.notes) ? finding.explanation.notes.map(text) : [],
    };
  }

  /** Everything of a row's findings in lower case, for the filter: row values, risk, notes, events' files and raw values. */
  searchText(row) {
    let text = this.search.get(row);
    if (text === undefined) {
      const parts = [row.facts.detection, row.reading];
      for (const i of row.members) {
        const finding = this.report.findings[i];
        try {
          parts.push(finding.mode, ...Object.values(finding.row).map(display), finding.risk?.message, finding.risk?.severity, ...(finding.explanation?.notes ?? []));
          // The whole finding (on the page) has its events; a brief (in the worker) their files only.
          for (const event of finding.events ?? []) parts.push(event.file, event.position, ...Object.values(event.fields ?? {}).map(display));
          parts.push(...(finding.event_files ?? []));
          for (const p of finding.explanation?.provenance ?? []) parts.push(display(p.raw_value));
        } catch {
          // a malformed finding: what was gathered of it is searched
        }
      }
      text = parts.filter((part) => part !== undefined && part !== null).join("\u0000").toLowerCase();
      this.search.set(row, text);
    }
    return text;
  }

  /**
   * What the findings table and the risk section show for `query`: `{ rules,
   * showSuppressed, needle, facets: {[facet]: [values]}, sort: {column, descending}, cases: {[identity]: {status, note}}, page, pages: {risk} }`. Answers the
   * counts, each facet's values with how many rows each would list, a page of rows
   * (`{ key, reading, facts, status, note, rule, members: [{ index, identity, finding, rule }] }`)
   * a page of risk totals and, when `query.open` is a finding's index, the row holding it
   * as `opened` (whatever the filter and page).
   */
  view(query) {
    const ruleOf = this.ruleOf(query);
    const rows = this.rowsOf();
    const cases = isRecord(query.cases) ? query.cases : {};
    const needle = String(query.needle ?? "").toLowerCase();
    const showSuppressed = Boolean(query.showSuppressed);
    const chosen = Object.fromEntries(FACETS.map((facet) => [facet, new Set(Array.isArray(query.facets?.[facet]) ? query.facets[facet].map(String) : [])]));
    const tallies = Object.fromEntries(FACETS.map((facet) => [facet, new Map()]));
    const tally = (facet, value) => tallies[facet].set(value, (tallies[facet].get(value) ?? 0) + 1);
    const listed = [];
    let suppressed = 0;
    let suppressedRows = 0;
    for (const row of rows) {
      const rule = ruleOf[row.members[0]];
      if (rule) {
        suppressed += row.members.length;
        suppressedRows += 1;
        if (!showSuppressed) continue;
      }
      const state = caseOf(cases, row);
      if (needle && !this.searchText(row).includes(needle) && !state.note.toLowerCase().includes(needle)) continue;
      const values = { detection: row.facts.detection_id, reading: row.reading, severity: row.facts.severity, host: row.facts.host, user: row.facts.user, status: state.status };
      const failing = FACETS.filter((facet) => chosen[facet].size && !chosen[facet].has(values[facet]));
      if (failing.length === 0) {
        listed.push({ row, state, rule });
        for (const facet of FACETS) tally(facet, values[facet]);
      } else if (failing.length === 1) {
        tally(failing[0], values[failing[0]]); // what choosing it too would list
      }
    }
    const sort = SORTS[query.sort?.column] ? query.sort : DEFAULT_SORT;
    const compare = SORTS[sort.column];
    const direction = sort.descending ? -1 : 1;
    listed.sort((a, b) => direction * compare(a, b) || SORTS.time(a, b) || a.row.members[0] - b.row.members[0]);
    const { items, ...page } = pageOf(listed, query.page, PAGE_SIZE.findings);
    const itemOf = ({ row, state, rule }) => ({
      key: row.key, reading: row.reading, facts: row.facts, status: state.status, note: state.note, rule,
      members: row.members.map((index, i) => ({ index, identity: row.identities[i], finding: this.report.findings[index], rule: ruleOf[index] })),
    });
    const openRow = Number.isInteger(query.open) ? rows.find((row) => row.members.includes(query.open)) : null;
    const names = Object.fromEntries(this.report.detections.map((d) => [d.id, d.name]));
    const facets = Object.fromEntries(FACETS.map((facet) => {
      const values = [...tallies[facet]].map(([value, n]) => ({ value, count: n, label: facet === "detection" ? names[value] ?? value : value || "(none)", chosen: chosen[facet].has(value) }));
      for (const value of chosen[facet]) if (!tallies[facet].has(value)) values.push({ value, count: 0, label: facet === "detection" ? names[value] ?? value : value || "(none)", chosen: true });
      values.sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
      return [facet, values.filter((v, i) => i < FACET_VALUES_SHOWN || v.chosen)];
    }));
    return {
      findings: this.report.findings.length, active: this.report.findings.length - suppressed, suppressed,
      rowCount: rows.length, suppressedRows, listed: listed.length, sort, facets,
      rows: { ...page, items: items.map(itemOf) },
      opened: openRow ? itemOf({ row: openRow, state: caseOf(cases, openRow), rule: ruleOf[openRow.members[0]] }) : null,
      risk: pageOf(this.riskTotals(ruleOf), query.pages?.risk, PAGE_SIZE.risk),
    };
  }

  /**
   * Risk totals without the suppressed findings (the core's, for the rules `ruleOf` came
   * from), highest first: `{ object, type, score, contributing, names, indexes }` (the findings named).
   */
  riskTotals(ruleOf) {
    if (this.riskRows?.ruleOf === ruleOf) return this.riskRows.rows;
    const { findings } = this.report;
    const totals = this.suppression?.ruleOf === ruleOf ? this.suppression.totals : this.report.risk_totals;
    const rows = totals.map((total) => {
      try {
        const indexes = total.contributing.slice(0, NAMES_SHOWN);
        const names = indexes.map((i) => {
          const finding = findings[i];
          const row = isRecord(finding.row) ? finding.row : {};
          return `${finding.detection} (${finding.risk.score}): ${display(row.process_name)}, pid ${display(row.process_id)}, ${display(row._time ?? row.firstTime)}`;
        });
        return { object: total.object, type: total.type, score: total.score, contributing: total.findings, names, indexes };
      } catch (err) {
        return { object: total?.object, type: total?.type, error: String(err?.message ?? err) };
      }
    });
    this.riskRows = { ruleOf, rows };
    return rows;
  }

  /** A page of the files of `list` (all, problems, gaps): `{ total, page, items }`. */
  files(list, page) {
    const keep = FILE_LISTS[list];
    if (!keep) throw new Error(`no list of files ${list}`);
    this.fileLists[list] ??= list === "all" ? this.report.files : this.report.files.filter(keep);
    return pageOf(this.fileLists[list], page, list === "all" ? PAGE_SIZE.files : PAGE_SIZE.problems);
  }

  /** Each finding's identity (case-state.js), in report order. */
  identities() {
    this.identityList ??= this.report.findings.map(findingIdentity);
    return this.identityList;
  }

  /** Indexes of the findings for which `keep(ruleOf[i])` holds. */
  indexes(query, keep) {
    const ruleOf = this.ruleOf(query);
    const indexes = [];
    ruleOf.forEach((rule, i) => keep(rule) && indexes.push(i));
    return indexes;
  }
}
