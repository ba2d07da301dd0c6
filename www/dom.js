// Builds DOM nodes. Every string goes in as text, never as HTML: event fields are
// written by whoever controlled the logged machine.

/** Creates an element; `props.text` becomes its textContent, other props are attributes. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = value;
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
