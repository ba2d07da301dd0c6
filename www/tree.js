// Draws a finding's process tree and the timeline around it as SVG. Every label is
// set with textContent: command lines and image paths come from the logged machine.

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 200;
const NODE_H = 46;
const GAP_X = 24;
const GAP_Y = 44;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function short(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Depth of each node: ancestors top-down, siblings beside the process, children below. */
function depths(tree) {
  const parent = new Map(tree.edges.map(([from, to]) => [to, from]));
  const depth = (id) => (parent.has(id) ? 1 + depth(parent.get(id)) : 0);
  return tree.nodes.map((n) => depth(n.id));
}

/** The tree as an SVG picture; `onSelect(node)` is called when a node is chosen. */
export function treePicture(tree, onSelect) {
  const level = depths(tree);
  const rows = [];
  tree.nodes.forEach((node, i) => (rows[level[i]] ??= []).push(node));
  const widest = Math.max(1, ...rows.map((r) => r.length));
  const width = widest * (NODE_W + GAP_X) + GAP_X;
  const height = rows.length * (NODE_H + GAP_Y) + GAP_Y;
  const picture = svg("svg", { class: "tree", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Process tree" });
  const position = new Map();
  rows.forEach((row, depth) => row.forEach((node, i) => {
    const offset = (width - row.length * (NODE_W + GAP_X) + GAP_X) / 2;
    position.set(node.id, { x: offset + i * (NODE_W + GAP_X), y: GAP_Y / 2 + depth * (NODE_H + GAP_Y) });
  }));
  for (const [from, to] of tree.edges) {
    const a = position.get(from);
    const b = position.get(to);
    picture.append(svg("line", { class: "edge", x1: a.x + NODE_W / 2, y1: a.y + NODE_H, x2: b.x + NODE_W / 2, y2: b.y,
      "data-from": from, "data-to": to }));
  }
  for (const node of tree.nodes) {
    const { x, y } = position.get(node.id);
    const connections = tree.connections.filter((c) => c.node === node.id);
    const group = svg("g", { class: `node ${node.role}`, tabindex: 0, "data-role": node.role,
      "data-name": node.name ?? "", "data-pid": node.pid ?? "", transform: `translate(${x},${y})` });
    group.append(svg("title", {}, [
      node.image ?? node.name ?? "unknown image", `pid ${node.pid ?? "?"} on ${node.host}`, `user ${node.user ?? "null"}`,
      node.command_line ?? "", node.time ?? "",
    ].filter(Boolean).join("\n")));
    group.append(svg("rect", { width: NODE_W, height: NODE_H, rx: 6 }));
    group.append(svg("text", { x: 8, y: 18, class: "name" }, short(`${node.name ?? "?"} (${node.pid ?? "?"})`, 28)));
    group.append(svg("text", { x: 8, y: 36, class: "detail" }, short(node.role === "process" ? "this finding" : node.role, 30)));
    if (connections.length) {
      group.append(svg("text", { x: NODE_W - 8, y: 36, class: "detail", "text-anchor": "end" }, `${connections.length} conn.`));
    }
    const choose = () => onSelect(node, connections);
    group.addEventListener("click", choose);
    group.addEventListener("keydown", (event) => { if (event.key === "Enter") choose(); });
    picture.append(group);
  }
  return picture;
}

/** Process starts and connections of the tree on one time axis. */
export function timelinePicture(tree) {
  const points = [
    ...tree.nodes.filter((n) => n.time).map((n) => ({ time: Date.parse(n.time), label: `${n.name ?? "?"} starts`, kind: n.role })),
    ...tree.connections.filter((c) => c.time).map((c) => ({
      time: Date.parse(c.time), label: `→ ${c.dest_host ?? c.dest_ip ?? "?"}:${c.dest_port ?? "?"}`, kind: "connection",
    })),
  ].filter((p) => !Number.isNaN(p.time)).sort((a, b) => a.time - b.time);
  const width = 760;
  const height = 40 + points.length * 18;
  const picture = svg("svg", { class: "timeline", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Timeline" });
  if (points.length === 0) return picture;
  const first = points[0].time;
  const span = Math.max(1, points[points.length - 1].time - first);
  const x = (time) => 20 + ((time - first) / span) * (width - 340);
  picture.append(svg("line", { class: "axis", x1: 20, y1: 20, x2: width - 320, y2: 20 }));
  points.forEach((point, i) => {
    const px = x(point.time);
    const py = 38 + i * 18;
    picture.append(svg("line", { class: "tick", x1: px, y1: 20, x2: px, y2: py - 4 }));
    picture.append(svg("circle", { class: `point ${point.kind}`, cx: px, cy: py - 4, r: 4 }));
    const seconds = ((point.time - first) / 1000).toFixed(1);
    picture.append(svg("text", { x: px + 8, y: py, class: "detail" }, `+${seconds} s  ${short(point.label, 48)}`));
  });
  return picture;
}
