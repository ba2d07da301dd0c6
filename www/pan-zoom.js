/**
 * A picture too large for its box, shown whole: an SVG in a box as wide as its column,
 * fitted on open (never drawn larger than life), then panned and zoomed by mouse (drag,
 * wheel), by keyboard (arrows, + and -, 0 to fit again) and by visible buttons. The
 * view is the SVG's viewBox, so the page never scrolls sideways because of it.
 */
import { el } from "./dom.js";

const MIN_HEIGHT = 160;
const MAX_HEIGHT = 560;
const ZOOM_STEP = 1.25;
const MIN_SCALE = 0.02;
const MAX_SCALE = 4;
const PAN_STEP = 60;
/** Pointer travel (px) below which a press is a click, not a drag. */
const DRAG_SLOP = 4;

/**
 * `picture` is an SVG whose content spans `width` × `height` user units. Returns
 * `{ box, fit }`: the box holds the buttons and the view; `fit` shows everything again.
 */
export function panZoom(picture, { width, height, label }) {
  const view = el("div", { class: "pan-zoom-view", tabindex: 0, role: "group",
    "aria-label": `${label}: drag or use the arrow keys to move, + and - to zoom, 0 to fit` });
  const readout = el("span", { class: "zoom-readout", "aria-live": "polite" });
  const button = (text, name, act) => {
    const b = el("button", { type: "button", class: "zoom", "aria-label": `${name} (${label})`, text });
    b.addEventListener("click", act);
    return b;
  };
  let scale = 1;
  let centre = { x: width / 2, y: height / 2 };
  let touched = false;

  picture.setAttribute("width", "100%");
  picture.setAttribute("preserveAspectRatio", "xMidYMid meet");
  view.append(picture);

  const size = () => ({ w: view.clientWidth, h: view.clientHeight });
  const draw = () => {
    const { w, h } = size();
    if (!w || !h) return;
    const vw = w / scale;
    const vh = h / scale;
    picture.setAttribute("viewBox", `${centre.x - vw / 2} ${centre.y - vh / 2} ${vw} ${vh}`);
    picture.setAttribute("height", h);
    readout.textContent = `${Math.round(scale * 100)} %`;
  };
  const fit = () => {
    const w = view.clientWidth;
    if (!w) return;
    scale = Math.min(1, w / width, MAX_HEIGHT / height);
    view.style.height = `${Math.max(MIN_HEIGHT, Math.min(MAX_HEIGHT, Math.ceil(height * scale)))}px`;
    centre = { x: width / 2, y: height / 2 };
    touched = false;
    draw();
  };
  /** Zooms by `factor`, keeping the point at box pixel `at` (default: the middle) still. */
  const zoom = (factor, at) => {
    const { w, h } = size();
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, scale * factor));
    const px = at ?? { x: w / 2, y: h / 2 };
    const before = { x: centre.x + (px.x - w / 2) / scale, y: centre.y + (px.y - h / 2) / scale };
    centre = { x: before.x - (px.x - w / 2) / next, y: before.y - (px.y - h / 2) / next };
    scale = next;
    touched = true;
    draw();
  };
  const pan = (dx, dy) => {
    centre = { x: centre.x - dx / scale, y: centre.y - dy / scale };
    touched = true;
    draw();
  };

  view.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: [PAN_STEP, 0], ArrowRight: [-PAN_STEP, 0], ArrowUp: [0, PAN_STEP], ArrowDown: [0, -PAN_STEP] };
    if (moves[event.key]) pan(...moves[event.key]);
    else if (event.key === "+" || event.key === "=") zoom(ZOOM_STEP);
    else if (event.key === "-" || event.key === "_") zoom(1 / ZOOM_STEP);
    else if (event.key === "0") fit();
    else return;
    event.preventDefault();
  });
  view.addEventListener("wheel", (event) => {
    event.preventDefault();
    const rect = view.getBoundingClientRect();
    zoom(event.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, { x: event.clientX - rect.left, y: event.clientY - rect.top });
  }, { passive: false });
  // A drag is followed on the window, so that it goes on outside the box; a press that
  // does not travel stays a click on the node under it.
  view.addEventListener("pointerdown", (down) => {
    if (down.button !== 0) return;
    let last = { x: down.clientX, y: down.clientY };
    let moved = false;
    const move = (event) => {
      if (event.pointerId !== down.pointerId) return;
      if (!moved && Math.hypot(event.clientX - down.clientX, event.clientY - down.clientY) < DRAG_SLOP) return;
      moved = true;
      view.classList.add("dragging");
      pan(event.clientX - last.x, event.clientY - last.y);
      last = { x: event.clientX, y: event.clientY };
    };
    const end = (event) => {
      if (event.pointerId !== down.pointerId) return;
      window.removeEventListener("pointermove", move);
      window.removeEventListener("pointerup", end);
      window.removeEventListener("pointercancel", end);
      view.classList.remove("dragging");
      // A drag is not a click on the node it started on.
      if (!moved) return;
      const swallow = (click) => click.stopPropagation();
      view.addEventListener("click", swallow, { capture: true, once: true });
      setTimeout(() => view.removeEventListener("click", swallow, { capture: true })); // the click follows pointerup at once, if at all
    };
    window.addEventListener("pointermove", move);
    window.addEventListener("pointerup", end);
    window.addEventListener("pointercancel", end);
  });
  // A node reached by Tab is brought into the view.
  view.addEventListener("focusin", (event) => {
    const node = event.target.closest?.("[data-x]");
    if (!node) return;
    const x = Number(node.dataset.x);
    const y = Number(node.dataset.y);
    const { w, h } = size();
    const half = { x: w / 2 / scale, y: h / 2 / scale };
    if (Math.abs(x - centre.x) > half.x * 0.8 || Math.abs(y - centre.y) > half.y * 0.8) {
      centre = { x, y };
      draw();
    }
  });
  // Fitted when first laid out; on a resize, fitted again unless moved by hand.
  new ResizeObserver(() => (touched ? draw() : fit())).observe(view);

  const tools = el("div", { class: "zoom-tools", role: "toolbar", "aria-label": `${label} view` },
    button("+", "Zoom in", () => zoom(ZOOM_STEP)),
    button("−", "Zoom out", () => zoom(1 / ZOOM_STEP)),
    button("Fit", "Fit to box", fit),
    readout);
  return { box: el("div", { class: "pan-zoom" }, tools, view), fit };
}
