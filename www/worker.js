// Runs the wasm core off the main thread. Streams each File into one reused 1 MiB
// buffer (File.stream() read with a BYOB reader: the browser reads no further than
// the core has taken, and no chunk is left behind for the garbage collector, which
// kept up to a fifth of a multi-GB file alive with plain reads), feeds one Analyzer
// and reports progress at most every PROGRESS_MS.
// Messages in:  {action: "analyze", id, files: File[], options: JSON text or ""} | {action: "demo"}
// Messages out: {action: "ready", defaults} | {action: "progress", id, file, bytes, events}
//               | {action: "report", id, data: JSON text, memory: wasm memory bytes}
//               | {action: "demo", data: XML text} | {action: "error", id, data}
import init, { Analyzer, defaultOptions, demoSample } from "./pkg/sysmon_lens.js";

const CHUNK_BYTES = 1 << 20;
const PROGRESS_MS = 100;
const STALL_MS = 10_000;
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

const STALLED = Symbol("stalled");

/** Calls `take(chunk, bytesSoFar)` for each chunk of `file`, read into one reused buffer.
 * A read the browser leaves pending for STALL_MS (seen now and then on files over 4 GiB)
 * is abandoned, and reading goes on from the same offset with a new stream. */
async function readFile(file, take) {
  let offset = 0;
  let buffer = new ArrayBuffer(CHUNK_BYTES);
  let reader = file.stream().getReader({ mode: "byob" });
  for (;;) {
    let timer;
    const stalled = new Promise((resolve) => { timer = setTimeout(() => resolve(STALLED), STALL_MS); });
    const result = await Promise.race([reader.read(new Uint8Array(buffer)), stalled]);
    clearTimeout(timer);
    if (result === STALLED) {
      reader.cancel().catch(() => {}); // the abandoned read keeps the old buffer
      buffer = new ArrayBuffer(CHUNK_BYTES);
      reader = file.slice(offset).stream().getReader({ mode: "byob" });
      continue;
    }
    if (result.done) return;
    offset += result.value.length;
    take(result.value, offset);
    buffer = result.value.buffer;
  }
}
