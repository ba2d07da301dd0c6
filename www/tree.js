// Draws a finding's process tree as SVG, fitted to its box and moved by mouse and
// keyboard (pan-zoom.js); the timeline is in timeline.js. Every label is set with
// textContent: command lines and image paths come from the logged machine.
// The tree is data from a report, so nothing here trusts its shape: layout is
// iterative with a visited set (a cycle or a repeated node is drawn once, never
// followed), and what is drawn is bounded, the rest counted in words.
import { panZoom } from "./pan-zoom.js";

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 200;
const NODE_H = 46;
const GAP_X = 24;
const GAP_Y = 44;
/** Nodes side by side at most; a wider generation (30 siblings) wraps onto more lines. */
const MAX_PER_LINE = 8;
const MAX_BOW = 3 * GAP_X;
const MAX_NODES = 64;
const MAX_CONNECTIONS_PER_NODE = 32;
const MAX_TITLE_CHARS = 1000;
const MAX_NOTES = 4;
const NOTES_CHARS = 300;
const ROLES = new Set(["ancestor", "process", "sibling", "child"]);

export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function short(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const isRecord = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
export const count = (n, noun, plural = `${noun}s`) => `${n.toLocaleString("en")} ${n === 1 ? noun : plural}`;

/** A JSON value as text when it is a scalar; objects and absent values are left out. */
function scalar(value) {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return undefined;
}

function nodeOf(raw) {
  const field = (name) => scalar(raw[name]);
  const role = field("role");
  return {
    id: raw.id, role: ROLES.has(role) ? role : "other", host: field("host"), image: field("image"), name: field("name"),
    pid: field("pid"), user: field("user"), command_line: field("command_line"), time: field("time"), location: field("location"),
  };
}

function connectionOf(raw) {
  const field = (name) => scalar(raw[name]);
  return { node: raw.node, time: field("time"), dest_ip: field("dest_ip"), dest_port: field("dest_port"),
    dest_host: field("dest_host"), location: field("location") };
}

/**
 * The drawable part of a process tree from a report, whatever its shape: at most
 * MAX_NODES distinct nodes (by id, first one kept), edges between them, each node's
 * connections, the report's notes on the tree, and what was left out.
 */
export function drawableTree(tree) {
  const rawNodes = Array.isArray(tree?.nodes) ? tree.nodes : [];
  const rawEdges = Array.isArray(tree?.edges) ? tree.edges : [];
  const rawConnections = Array.isArray(tree?.connections) ? tree.connections : [];
  const nodes = [];
  const byId = new Map();
  const seen = new Set();
  let repeated = 0;
  let malformed = 0;
  for (const raw of rawNodes) {
    if (!isRecord(raw) || (typeof raw.id !== "number" && typeof raw.id !== "string")) malformed += 1;
    else if (seen.has(raw.id)) repeated += 1;
    else {
      seen.add(raw.id);
      if (nodes.length < MAX_NODES) {
        const node = nodeOf(raw);
        nodes.push(node);
        byId.set(node.id, node);
      }
    }
  }
  const edges = [];
  const edgeKeys = new Set();
  for (const raw of rawEdges) {
    if (!Array.isArray(raw) || raw.length !== 2) continue;
    const [from, to] = raw;
    if (from === to || !byId.has(from) || !byId.has(to)) continue;
    const key = JSON.stringify(raw);
    if (edgeKeys.has(key)) continue;
    edgeKeys.add(key);
    edges.push([from, to]);
  }
  const connections = new Map(nodes.map((node) => [node.id, { shown: [], total: 0 }]));
  for (const raw of rawConnections) {
    const slot = isRecord(raw) ? connections.get(raw.node) : undefined;
    if (!slot) continue;
    slot.total += 1;
    if (slot.shown.length < MAX_CONNECTIONS_PER_NODE) slot.shown.push(connectionOf(raw));
  }
  const notes = (Array.isArray(tree?.notes) ? tree.notes : []).filter((n) => typeof n === "string")
    .slice(0, MAX_NOTES).map((n) => short(n, NOTES_CHARS));
  return { nodes, edges, connections, notes, notDrawn: seen.size - nodes.length, repeated, malformed };
}

/**
 * Depth of each node id, without recursion: breadth-first from the nodes that have no
 * parent, then from the first node not yet reached (a cycle has no such root). Each node
 * keeps the first parent an edge gives it; an edge that does not lead one level down
 * (closing a cycle, or a second parent) is drawn apart.
 */
function layers(nodes, edges) {
  const parent = new Map();
  const children = new Map(nodes.map((n) => [n.id, []]));
  for (const [from, to] of edges) {
    if (parent.has(to)) continue;
    parent.set(to, from);
    children.get(from).push(to);
  }
  const depth = new Map();
  const walkFrom = (root) => {
    depth.set(root, 0);
    const queue = [root];
    for (let head = 0; head < queue.length; head += 1) {
      for (const child of children.get(queue[head])) {
        if (depth.has(child)) continue;
        depth.set(child, depth.get(queue[head]) + 1);
        queue.push(child);
      }
    }
  };
  for (const node of nodes) if (!parent.has(node.id)) walkFrom(node.id);
  for (const node of nodes) if (!depth.has(node.id)) walkFrom(node.id);
  return depth;
}

/** What was left out or bent, in words, one line each: the report's own notes first. */
function notes(drawn, loops) {
  return [
    ...drawn.notes,
    drawn.notDrawn ? `… ${count(drawn.notDrawn, "more process", "more processes")} not drawn` : null,
    drawn.repeated ? `${count(drawn.repeated, "process", "processes")} listed more than once, drawn once` : null,
    drawn.malformed ? `${count(drawn.malformed, "malformed node")} left out` : null,
    loops ? `${count(loops, "dashed link")}: a parent link that does not lead down (a cycle, or a second parent)` : null,
  ].filter(Boolean);
}

/**
 * The tree as an SVG picture fitted to its box, with zoom buttons and what it leaves
 * out listed in words below it; `onSelect(node, connections)` is called when a node is
 * chosen (click, Enter or Space). `subject` names the process the tree is drawn for.
 */
export function treePicture(tree, onSelect, { subject = "this finding" } = {}) {
  const drawn = drawableTree(tree);
  const depth = layers(drawn.nodes, drawn.edges);
  const generations = [];
  for (const node of drawn.nodes) (generations[depth.get(node.id)] ??= []).push(node);
  const rows = generations.filter(Boolean).flatMap((generation) => {
    const lines = [];
    for (let i = 0; i < generation.length; i += MAX_PER_LINE) lines.push(generation.slice(i, i + MAX_PER_LINE));
    return lines;
  });
  const downward = (from, to) => depth.get(to) === depth.get(from) + 1;
  const loops = drawn.edges.filter(([from, to]) => !downward(from, to)).length;
  const lines = notes(drawn, loops);
  const widest = Math.max(1, ...rows.map((r) => r.length));
  // Room on the right for the bow of dashed links.
  const width = widest * (NODE_W + GAP_X) + GAP_X + (loops ? MAX_BOW : 0);
  const height = Math.max(1, rows.length) * (NODE_H + GAP_Y) + GAP_Y;
  const picture = svg("svg", { class: "tree", viewBox: `0 0 ${width} ${height}`, role: "group",
    "aria-label": `Process tree, ${count(drawn.nodes.length, "process", "processes")}` });
  const position = new Map();
  rows.forEach((row, level) => row.forEach((node, i) => {
    const offset = (width - (loops ? MAX_BOW : 0) - row.length * (NODE_W + GAP_X) + GAP_X) / 2;
    position.set(node.id, { x: offset + i * (NODE_W + GAP_X), y: GAP_Y / 2 + level * (NODE_H + GAP_Y) });
  }));
  for (const [from, to] of drawn.edges) {
    const a = position.get(from);
    const b = position.get(to);
    if (downward(from, to)) {
      picture.append(svg("line", { class: "edge", x1: a.x + NODE_W / 2, y1: a.y + NODE_H, x2: b.x + NODE_W / 2, y2: b.y,
        "data-from": from, "data-to": to }));
    } else {
      // Right side to right side, bowed outwards, so it never runs through the nodes between.
      const bow = Math.min(GAP_X + Math.abs(a.y - b.y) / 4, MAX_BOW);
      const [ax, ay, bx, by] = [a.x + NODE_W, a.y + NODE_H / 2, b.x + NODE_W, b.y + NODE_H / 2];
      picture.append(svg("path", { class: "edge loop", fill: "none", "stroke-dasharray": "5 4",
        d: `M ${ax} ${ay} C ${ax + bow} ${ay}, ${bx + bow} ${by}, ${bx} ${by}`, "data-from": from, "data-to": to }));
    }
  }
  let selected = null;
  for (const node of drawn.nodes) {
    const { x, y } = position.get(node.id);
    const { shown, total } = drawn.connections.get(node.id);
    const role = node.role === "process" ? subject : node.role;
    const title = short(`${node.name ?? "?"} (${node.pid ?? "?"})`, 28);
    const connections = total ? count(total, "connection") : null;
    // The name read out holds the words shown, in order.
    const group = svg("g", { class: `node ${node.role}`, tabindex: 0, role: "button", "aria-pressed": "false",
      "aria-label": [title, short(role, 30), connections].filter(Boolean).join(" "),
      "data-role": node.role, "data-name": node.name ?? "", "data-pid": node.pid ?? "",
      "data-x": x + NODE_W / 2, "data-y": y + NODE_H / 2, transform: `translate(${x},${y})` });
    group.append(svg("title", {}, [
      node.image ?? node.name ?? "unknown image", `pid ${node.pid ?? "?"} on ${node.host ?? "?"}`, `user ${node.user ?? "null"}`,
      short(node.command_line ?? "", MAX_TITLE_CHARS), node.time ?? "",
    ].filter(Boolean).join("\n")));
    group.append(svg("rect", { width: NODE_W, height: NODE_H, rx: 6 }));
    group.append(svg("text", { x: 8, y: 18, class: "name" }, title));
    // The trailing space keeps the words apart in the node's text, as in its name.
    group.append(svg("text", { x: 8, y: 36, class: "detail" }, `${short(role, 30)} `));
    if (connections) group.append(svg("text", { x: NODE_W - 8, y: 36, class: "detail", "text-anchor": "end" }, connections));
    const choose = () => {
      selected?.setAttribute("aria-pressed", "false");
      selected = group;
      group.setAttribute("aria-pressed", "true");
      onSelect(node, shown);
    };
    group.addEventListener("click", choose);
    group.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      choose();
    });
    picture.append(group);
  }
  const box = document.createElement("div");
  box.className = "tree-picture";
  box.append(panZoom(picture, { width, height, label: "Process tree" }).box);
  if (lines.length) {
    const list = document.createElement("ul");
    list.className = "notes";
    for (const line of lines) list.append(Object.assign(document.createElement("li"), { textContent: line }));
    box.append(list);
  }
  return box;
}
