// Builds DOM nodes. Every string goes in as text, never as HTML: event fields are
// written by whoever controlled the logged machine.

/** Creates an element; `props.text` becomes its textContent, other props are attributes. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
    else if (/^on/i.test(key)) throw new TypeError(`no event handler attribute: ${key}`);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** A two-column table of name/value pairs. */
export function fieldTable(entries, className = "fields") {
  return el("table", { class: className },
    el("tbody", {}, entries.map(([name, value]) =>
      el("tr", {}, el("th", { scope: "row", text: name }), el("td", { text: display(value) })))));
}

/** How a value is shown: strings as they are, other JSON values as JSON. */
export function display(value) {
  if (value === null || value === undefined) return "null";
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A number as the page writes counts: 100,000. */
export const count = (n) => n.toLocaleString("en");

/** Why something failed, in one line. */
export const reason = (err) => String(err?.message ?? err);

/**
 * `build()`, or if it throws, a visible note in its place (a `tag` element, or a table
 * row for "tr"): one malformed part of the report must not keep the rest from being shown.
 */
export function guarded(what, build, tag = "div") {
  try {
    return build();
  } catch (err) {
    const text = `${what} could not be shown: ${reason(err)}`;
    return tag === "tr"
      ? el("tr", { class: "part-error" }, el("td", { colspan: 99, role: "note", text }))
      : el(tag, { class: "part-error", role: "note", text });
  }
}

/**
 * The bar over a long list: "Showing 1–100 of 100,000" with Previous and Next, which
 * call `onPage(page)`; empty when one page holds all. `at` is `{ total, page, size }`;
 * `label` names the list (unique on the page: screen readers list every bar by it); the
 * bar is made, or `bar` is updated. Its buttons are kept across updates: the one just
 * pressed keeps the focus, and the browser need not lay out the page to move it.
 */
export function pagerBar({ total, page, size }, onPage, label, bar = el("nav", { class: "pager", "aria-label": label })) {
  if (total <= size) {
    bar.replaceChildren();
    return bar;
  }
  if (!bar.pager) {
    const step = (text) => {
      const button = el("button", { type: "button", class: text.toLowerCase(), text });
      button.addEventListener("click", () => bar.pager.onPage(Number(button.dataset.target)));
      return button;
    };
    bar.pager = { shown: el("span"), previous: step("Previous"), next: step("Next") };
  }
  const { shown, previous, next } = bar.pager;
  bar.pager.onPage = onPage;
  const first = page * size;
  shown.textContent = `Showing ${count(first + 1)}–${count(Math.min(first + size, total))} of ${count(total)}`;
  Object.assign(previous, { disabled: page === 0 });
  previous.dataset.target = page - 1;
  Object.assign(next, { disabled: first + size >= total });
  next.dataset.target = page + 1;
  if (bar.firstChild !== shown) bar.replaceChildren(shown, previous, next);
  return bar;
}

/** Which pager button has the keyboard focus, so that the redrawn pager can take it back. */
export function pagerFocus() {
  const bar = document.activeElement?.closest?.("nav.pager");
  return bar ? { label: bar.getAttribute("aria-label"), button: document.activeElement.className } : null;
}

/** Gives the focus back to the button `pagerFocus()` saw, or to the other one when it is now disabled. */
export function restorePagerFocus(seen) {
  if (!seen || document.activeElement?.closest?.("nav.pager")) return;
  const bar = [...document.querySelectorAll("nav.pager")].find((b) => b.getAttribute("aria-label") === seen.label);
  const buttons = bar ? [...bar.querySelectorAll("button:not(:disabled)")] : [];
  (buttons.find((b) => b.className === seen.button) ?? buttons[0])?.focus();
}

/**
 * A long list shown a page at a time: `{ bar, list, shown }`. `fetch(page)` gives, at once
 * or as a promise, `{ total, page, size, items }`; `render(item)` one item's node. `shown`
 * resolves once the first page is drawn. `label` names the list's pager (see `pagerBar`).
 */
export function pagedList(fetch, render, { tag = "div", className = null, label } = {}) {
  const list = el(tag, { class: className });
  const bar = el("nav", { class: "pager", "aria-label": label });
  let latest = 0;
  const show = async (page) => {
    const asked = ++latest;
    const seen = pagerFocus();
    try {
      const at = await fetch(page);
      if (asked !== latest) return;
      list.replaceChildren(...at.items.map(render));
      pagerBar(at, show, label, bar);
      restorePagerFocus(seen);
    } catch (err) {
      list.replaceChildren(guarded("This list", () => { throw err; }, tag === "tbody" ? "tr" : "p"));
    }
  };
  const shown = show(0);
  return { bar, list, shown };
}
