// Runs the wasm core off the main thread. Streams each File (read-file.js), feeds one
// Analyzer and reports progress at most every PROGRESS_MS.
// Messages in:  {action: "analyze", id, files: File[], options: JSON text or ""} | {action: "demo"}
// Messages out: {action: "ready", defaults} | {action: "progress", id, file, bytes, events}
//               | {action: "report", id, data: JSON text, memory: wasm memory bytes}
//               | {action: "demo", data: XML text} | {action: "error", id, data}
import init, { Analyzer, defaultOptions, demoSample } from "./pkg/sysmon_lens.js";
import { readFile } from "./read-file.js";

const PROGRESS_MS = 100;
const ready = init();
let exports;
ready.then(
  (instance) => {
    exports = instance;
    postMessage({ action: "ready", defaults: JSON.parse(defaultOptions()) });
  },
  (err) => postMessage({ action: "error", data: String(err) }),
);

onmessage = async ({ data: msg }) => {
  try {
    await ready;
    if (msg.action === "demo") postMessage({ action: "demo", data: demoSample() });
    if (msg.action === "analyze") {
      const data = await analyze(msg);
      postMessage({ action: "report", id: msg.id, data, memory: exports.memory.buffer.byteLength });
    }
  } catch (err) {
    postMessage({ action: "error", id: msg.id, data: String(err && err.message ? err.message : err) });
  }
};

async function analyze({ id, files, options }) {
  const analyzer = new Analyzer(options || undefined);
  try {
    let reported = 0;
    for (const [index, file] of files.entries()) {
      analyzer.beginFile(file.name);
      await readFile(file, (chunk, bytes) => {
        analyzer.feed(chunk);
        if (performance.now() - reported >= PROGRESS_MS) {
          reported = performance.now();
          postMessage({ action: "progress", id, file: index, bytes, events: analyzer.eventsRead() });
        }
      });
      analyzer.endFile();
      postMessage({ action: "progress", id, file: index, bytes: file.size, events: analyzer.eventsRead() });
    }
    return analyzer.finish();
  } finally {
    analyzer.free();
  }
}
