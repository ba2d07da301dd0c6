// Runs the wasm core off the main thread. Reads each File in slices, feeds them to
// one Analyzer and reports progress; only one slice is held at a time.
// Messages in:  {action: "analyze", id, files: File[]}
// Messages out: {action: "ready"} | {action: "progress", id, file, bytes, events}
//               | {action: "report", id, data: JSON text} | {action: "error", id, data}
import init, { Analyzer } from "./pkg/sysmon_lens.js";

const SLICE_BYTES = 1 << 20;
const ready = init();
ready.then(() => postMessage({ action: "ready" }), (err) => postMessage({ action: "error", data: String(err) }));

onmessage = async ({ data: msg }) => {
  if (msg.action !== "analyze") return;
  try {
    await ready;
    postMessage({ action: "report", id: msg.id, data: await analyze(msg.id, msg.files) });
  } catch (err) {
    postMessage({ action: "error", id: msg.id, data: String(err && err.message ? err.message : err) });
  }
};

async function analyze(id, files) {
  const analyzer = new Analyzer();
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
