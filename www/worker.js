// Runs the wasm core off the main thread. Reads each File in slices, feeds them to
// one Analyzer and reports progress; only one slice is held at a time.
// Messages in:  {action: "analyze", id, files: File[], options: JSON text or ""} | {action: "demo"}
// Messages out: {action: "ready", defaults} | {action: "progress", id, file, bytes, events}
//               | {action: "report", id, data: JSON text} | {action: "demo", data: XML text}
//               | {action: "error", id, data}
import init, { Analyzer, defaultOptions, demoSample } from "./pkg/sysmon_lens.js";

const SLICE_BYTES = 1 << 20;
const ready = init();
ready.then(
  () => postMessage({ action: "ready", defaults: JSON.parse(defaultOptions()) }),
  (err) => postMessage({ action: "error", data: String(err) }),
);

onmessage = async ({ data: msg }) => {
  try {
    await ready;
    if (msg.action === "demo") postMessage({ action: "demo", data: demoSample() });
    if (msg.action === "analyze") postMessage({ action: "report", id: msg.id, data: await analyze(msg) });
  } catch (err) {
    postMessage({ action: "error", id: msg.id, data: String(err && err.message ? err.message : err) });
  }
};

async function analyze({ id, files, options }) {
  const analyzer = new Analyzer(options || undefined);
  try {
    for (const [index, file] of files.entries()) {
      analyzer.beginFile(file.name);
      for (let offset = 0; offset < file.size; offset += SLICE_BYTES) {
        const slice = await file.slice(offset, offset + SLICE_BYTES).arrayBuffer();
        analyzer.feed(new Uint8Array(slice));
        const bytes = Math.min(offset + SLICE_BYTES, file.size);
        postMessage({ action: "progress", id, file: index, bytes, events: analyzer.eventsRead() });
      }
      analyzer.endFile();
      postMessage({ action: "progress", id, file: index, bytes: file.size, events: analyzer.eventsRead() });
    }
    return analyzer.finish();
  } finally {
    analyzer.free();
  }
}
