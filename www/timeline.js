/**
 * The process starts and connections of a finding's tree in time order, one row each:
 * the absolute UTC time, a mark on a track as wide as the box, and what happened. Rows
 * are HTML, so labels wrap instead of being clipped and no line crosses them; the
 * finding's own events are marked. Every label is text: it comes from the logged machine.
 */
import { el } from "./dom.js";
import { drawableTree, short, count } from "./tree.js";

const MAX_TIMELINE_POINTS = 200;
const LABEL_CHARS = 160;

/** `2026-08-11 08:30:09.248 UTC`: a time as the timeline writes it. */
export function utc(ms) {
  return `${new Date(ms).toISOString().replace("T", " ").replace("Z", "")} UTC`;
}

function elapsed(ms) {
  if (ms < 1000) return `+${ms} ms`;
  if (ms < 120_000) return `+${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `+${(ms / 60_000).toFixed(1)} min`;
  return `+${(ms / 3_600_000).toFixed(1)} h`;
}

/**
 * The timeline of `tree`; `marked` holds the locations ("file, line N") of the
 * finding's own events, whose rows are marked.
 */
export function timelinePicture(tree, marked = new Set()) {
  const drawn = drawableTree(tree);
  const starts = drawn.nodes.filter((n) => n.time).map((n) => ({
    time: Date.parse(n.time), kind: n.role, location: n.location,
    label: `${n.name ?? "?"} (pid ${n.pid ?? "?"}) starts${n.role === "process" ? "" : ` · ${n.role}`}`,
  }));
  const connections = [...drawn.connections.values()].flatMap((c) => c.shown).filter((c) => c.time).map((c) => ({
    time: Date.parse(c.time), kind: "connection", location: c.location,
    label: `connection → ${c.dest_host ?? c.dest_ip ?? "?"}:${c.dest_port ?? "?"}`,
  }));
  const all = [...starts, ...connections].filter((p) => !Number.isNaN(p.time)).sort((a, b) => a.time - b.time);
  const points = all.slice(0, MAX_TIMELINE_POINTS);
  if (points.length === 0) return el("p", { class: "timeline-empty", text: "No process start or connection in this tree has a time." });
  const first = points[0].time;
  const last = points[points.length - 1].time;
  const span = Math.max(1, last - first);
  const row = (point) => {
    const own = point.kind === "process" || marked.has(point.location);
    const at = span > 1 || points.length > 1 ? ((point.time - first) / span) * 100 : 50;
    const dot = el("span", { class: "dot" });
    dot.style.left = `${at.toFixed(2)}%`; // through the CSSOM: the CSP allows no style attribute
    return el("li", { class: `moment ${point.kind}${own ? " own" : ""}` },
      el("time", { datetime: new Date(point.time).toISOString(), text: utc(point.time) }),
      el("span", { class: "track", "aria-hidden": "true" }, dot),
      el("span", { class: "what" },
        own ? el("strong", { class: "mark", text: "this finding" }) : null,
        el("span", { text: short(point.label, LABEL_CHARS) }),
        el("span", { class: "since", text: ` ${elapsed(point.time - first)}` })));
  };
  const left = all.length - points.length;
  return el("div", { class: "timeline" },
    el("p", { class: "span", text: `${utc(first)} → ${utc(last)} (${elapsed(last - first).slice(1)})` }),
    el("ol", { class: "moments" }, points.map(row)),
    left ? el("p", { class: "note", text: `… ${count(left, "later event")} not drawn` }) : null);
}
