// What the page shows of a report, worked out apart from the DOM so that it runs where
// the report is held: on the page for a small report, in the worker for a large one
// (100 k findings held as objects on the page would stall it in garbage collection).
// Answers are plain data that can cross to the page: counts, and one page of each long
// list. A malformed finding, file or risk total is passed on as it is, for its own panel
// to say what is wrong with it; it never stops the others from being counted and listed.
import { suppressedBy } from "./settings.js";

/** Items per page of each long list. */
export const PAGE_SIZE = { findings: 100, files: 100, problems: 50, risk: 100 };
/** How many names of a long list (hosts, users, findings behind a risk total) are given. */
export const NAMES_SHOWN = 50;
const MODES = ["as_published", "hardened"];

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
  /** `report` is the CLI's document; its findings may be briefs (FindingBrief in src/wasm.rs). */
  constructor(report) {
    this.report = report;
    this.search = [];
    this.suppression = null;
    this.listing = null;
    this.riskRows = null;
    this.fileLists = {};
  }

  /** What settings do not change: tool, detections, the summary with its long lists cut, counts, row fields. */
  head() {
    const { tool, summary, detections, files, findings, risk_totals: riskTotals } = this.report;
    const rowFields = new Set();
    for (const finding of findings) if (isRecord(finding?.row)) for (const key of Object.keys(finding.row)) rowFields.add(key);
    const cut = (list) => (Array.isArray(list) ? list.slice(0, NAMES_SHOWN) : list);
    return {
      tool, detections,
      summary: { ...summary, hosts: cut(summary.hosts), users: cut(summary.users), host_count: summary.hosts?.length, user_count: summary.users?.length },
      counts: { files: files.length, findings: findings.length, risk_totals: riskTotals.length },
      rowFields: [...rowFields],
    };
  }

  /**
   * Per finding, the rule suppressing it or null. `query.suppressedBy(finding)` decides,
   * or else `query.rules` (settings.js); the answer is kept while they stay the same.
   */
  ruleOf(query) {
    const key = query.suppressedBy ?? JSON.stringify(query.rules ?? []);
    if (this.suppression?.key !== key) {
      const by = query.suppressedBy ?? ((finding) => suppressedBy(finding, query.rules ?? []));
      const ruleOf = this.report.findings.map((finding) => {
        try {
          return by(finding);
        } catch {
          return null; // a malformed finding: its own panel says what is wrong
        }
      });
      this.suppression = { key, ruleOf };
    }
    return this.suppression.ruleOf;
  }

  /** The findings listed in each column (detection × reading), and those of no known column. */
  listed(ruleOf, showSuppressed, needle) {
    const same = this.listing;
    if (same && same.ruleOf === ruleOf && same.showSuppressed === showSuppressed && same.needle === needle) return same;
    const columns = new Map();
    for (const detection of this.report.detections) {
      for (const mode of MODES) columns.set(columnKey(detection.id, mode), { detection_id: detection.id, mode, all: 0, suppressed: 0, listed: [] });
    }
    const unplaced = [];
    this.report.findings.forEach((finding, i) => {
      const column = columns.get(columnKey(finding?.detection_id, finding?.mode));
      if (!column) return unplaced.push(i);
      column.all += 1;
      if (ruleOf[i]) {
        column.suppressed += 1;
        if (!showSuppressed) return;
      }
      if (needle && !this.searchText(i).includes(needle)) return;
      column.listed.push(i);
    });
    this.listing = { ruleOf, showSuppressed, needle, columns: [...columns.values()], unplaced };
    return this.listing;
  }

  /** A finding's row values in lower case, for the filter. */
  searchText(i) {
    let text = this.search[i];
    if (text === undefined) {
      const row = this.report.findings[i]?.row;
      text = isRecord(row) ? Object.values(row).map(display).join("\u0000").toLowerCase() : "";
      this.search[i] = text;
    }
    return text;
  }

  /**
   * What the findings and risk sections show for `query` ({rules or suppressedBy,
   * showSuppressed, needle, pages: {[column key or "unplaced" or "risk"]: page}}): per
   * column its counts and a page of `{ index, finding, rule }`, and a page of risk totals.
   */
  view(query) {
    const ruleOf = this.ruleOf(query);
    const needle = String(query.needle ?? "").toLowerCase();
    const { columns, unplaced } = this.listed(ruleOf, Boolean(query.showSuppressed), needle);
    const pages = query.pages ?? {};
    const findingsPage = (key, list) => {
      const { items, ...page } = pageOf(list, pages[key], PAGE_SIZE.findings);
      return { key, ...page, items: items.map((index) => ({ index, finding: this.report.findings[index], rule: ruleOf[index] })) };
    };
    let active = 0;
    let suppressed = 0;
    for (const column of columns) {
      active += column.all - column.suppressed;
      suppressed += column.suppressed;
    }
    return {
      findings: this.report.findings.length, active, suppressed,
      listed: columns.reduce((sum, column) => sum + column.listed.length, 0) + unplaced.length,
      columns: columns.map(({ listed, ...column }) => ({ ...column, ...findingsPage(columnKey(column.detection_id, column.mode), listed) })),
      unplaced: findingsPage("unplaced", unplaced),
      risk: pageOf(this.riskTotals(ruleOf), pages.risk, PAGE_SIZE.risk),
    };
  }

  /** Risk totals without the suppressed findings, highest first: `{ object, type, score, contributing, names }`. */
  riskTotals(ruleOf) {
    if (this.riskRows?.ruleOf === ruleOf) return this.riskRows.rows;
    const { findings, risk_totals: totals } = this.report;
    const rows = [];
    for (const total of totals) {
      try {
        let score = 0;
        let contributing = 0;
        const names = [];
        for (const i of total.contributing) {
          if (ruleOf[i]) continue;
          const finding = findings[i];
          score += finding.risk.risk_objects.find((o) => o.value === total.object && o.type === total.type).score;
          contributing += 1;
          if (names.length < NAMES_SHOWN) names.push(`${finding.detection} (${finding.risk.score})`);
        }
        if (contributing > 0) rows.push({ object: total.object, type: total.type, score, contributing, names });
      } catch (err) {
        rows.push({ object: total?.object, type: total?.type, error: String(err?.message ?? err) });
      }
    }
    const byObject = (a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0);
    rows.sort((a, b) => (b.score ?? -1) - (a.score ?? -1) || byObject(a, b));
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

  /** Indexes of the findings for which `keep(ruleOf[i])` holds. */
  indexes(query, keep) {
    const ruleOf = this.ruleOf(query);
    const indexes = [];
    ruleOf.forEach((rule, i) => keep(rule) && indexes.push(i));
    return indexes;
  }
}
