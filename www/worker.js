// Runs the wasm core off the main thread. Streams each File (read-file.js) into one
// Analyzer, reports progress at most every PROGRESS_MS, then keeps the finished report:
// in wasm memory, read in parts of about PART_BYTES of JSON (a large report is more than
// one JS string can hold), and in brief as a ReportModel (model.js). A small report goes
// to the page whole; of a large one the page asks for what it shows, a page at a time.
// Exports of the whole report are built here, as Blobs, but for the HTML report, which the page
// writes (its pictures need a DOM) from what this worker gives it.
// A large UTF-8 XML or JSON Lines log is read by two workers: this one reads it up to a
// cut near the middle (where a line starts a record), a second instance of this script
// (named "part", given the compiled module) reads the rest into a residue (the records
// to parse, the skips, the counts; src/ingest/residue.rs) that this one absorbs. If this
// worker's reader did not end between records at the cut, it reads the rest itself.
// Messages in:  {action: "analyze", id, files: File[], options: JSON text or "", workers: 1 | 2 (default 2)}
//               | {action: "demo"} | {action: "script", script: Blob} (the single file: this script)
//               | {action: "view", id, request, query} | {action: "files", id, request, list, page}
//               | {action: "export", id, request, format: "json" | "csv" | "html" | "navigator", query}
//               | {action: "findings", id, request, start}: the next part of the full findings, for the HTML report
//               | {action: "full", id, request, indexes}: those full findings (a row opened), as a list
//               | {action: "suppression", id, request, rules}: what the rules suppress, as the core decides
//                 ({by, risk_totals}), for a report held on the page
//               | {action: "release"} (the report is no longer shown)
// Messages out: {action: "ready", defaults, detections: [{id, name, output_fields}]} | {action: "progress", id, file, bytes, events}
//               | {action: "report", id, whole, head, stopped, memory: wasm memory bytes}: whole,
//                 head is the report's JSON with its long lists empty and parts follow
//                 ({action: "part", id, list: "files" | "findings" | "risk_totals", data: JSON array text});
//                 else head is ReportModel.head(), and the page asks for views and pages of files
//               | {action: "report-end", id} | {action: "demo", data: XML text}
//               | {action: "view" | "files" | "export" | "findings" | "full" | "suppression", id, request, data}: the answer (export: a Blob,
//                 or for "html" what the page needs to write the report; findings: [JSON array text, next start])
//               | {action: "error", id, request, data, fatal}: fatal when the wasm instance is lost
//               | {action: "split", id, file, cut, absorbed}: a file was read by two workers (absorbed: the
//                 second's part was taken, else this worker read it again itself)
// The "part" role: in {module, file, cut, head}; out {progress: bytes} | {residue: Uint8Array} | {error}.
import init, { Analyzer, PartReader, defaultOptions, demoSample, detectionList } from "./pkg/sysmon_lens.js";
import { readFile } from "./read-file.js";
import { ReportModel } from "./model.js";
import { compileCore } from "./wasm-core.js";
import { navigatorLayer, withCaseColumns } from "./exports.js";
import { stateOf } from "./case-state.js";
import { Sha256 } from "./sha256.js";

const PROGRESS_MS = 100;
const PART_BYTES = 1 << 20;
/** Reports of at most this many findings and files go to the page whole. */
const WHOLE_MAX = 1000;
/** Parts of an export are gathered into a Blob every this many characters. */
const BLOB_FOLD_CHARS = 32 << 20;
/** Thrown from the read loop when the analyzer takes no more. */
const STOP = Symbol("stop");
/** Files at least this large are read by two workers, when their format allows. */
const SPLIT_MIN_BYTES = 64 << 20;
/** What is read before deciding: enough for the format and a JSON file's shape. */
const HEAD_BYTES = 1 << 20;
/** How far past the middle a line starting a record is looked for. */
const CUT_WINDOW_BYTES = 64 << 10;

if (self.name === "part") readPartOnRequest();
/** The compiled module, compiled once: a second worker instantiates it without fetching it again. */
const compiled = self.name === "part" ? null : compileCore();
const ready = compiled?.then((module) => init({ module_or_path: module }));
let exports;
/** The last finished report, kept while the page shows it: {id, report (wasm), model}. */
let held = null;
/** Where reading was, for a message if the wasm instance fails. */
let position = null;
/** The core's last panic, which its panic hook logs to the console just before the instance traps. */
let panicked = null;
const logError = console.error.bind(console);
console.error = (...args) => {
  if (/panicked at/.test(String(args[0]))) panicked = String(args[0]);
  logError(...args);
};
ready?.then(
  (instance) => {
    exports = instance;
    postMessage({ action: "ready", defaults: JSON.parse(defaultOptions()), detections: JSON.parse(detectionList()) });
  },
  (err) => postMessage({ action: "error", data: String(err), fatal: true }),
);

onmessage = async ({ data: msg }) => {
  if (msg.action === "script") {
    ownScript = URL.createObjectURL(msg.script);
    return;
  }
  try {
    await ready;
    if (msg.action === "demo") postMessage({ action: "demo", data: demoSample() });
    if (msg.action === "analyze") await analyze(msg);
    if (msg.action === "release") release();
    const answer = {
      view: () => view(heldFor(msg.id), msg.query),
      files: () => heldFor(msg.id).model.files(msg.list, msg.page),
      full: () => fullFindings(heldFor(msg.id), msg.indexes),
      suppression: () => suppressionOf(heldFor(msg.id).report, msg.rules),
      export: () => exportBlob(heldFor(msg.id), msg),
      findings: () => heldFor(msg.id).report.items("findings", msg.start, PART_BYTES),
      browse: () => heldFor(msg.id).report.browsePage(JSON.stringify(msg.query), msg.start, msg.count),
      "browse-tree": () => heldFor(msg.id).report.browseTree(msg.list, msg.row),
    }[msg.action];
    if (answer) postMessage({ action: msg.action, id: msg.id, request: msg.request, data: answer() });
  } catch (err) {
    // After a trap the instance's memory and borrow flags are left as they were: it is not called again.
    const fatal = err instanceof WebAssembly.RuntimeError;
    postMessage({ action: "error", id: msg.id, request: msg.request, fatal, data: fatal ? trapMessage(err) : String(err?.message ?? err) });
  }
};

function heldFor(id) {
  if (held?.id !== id) throw new Error("this report is no longer held; analyze the files again");
  return held;
}

function release() {
  held?.report.free();
  held = null;
}

async function analyze({ id, files, options, workers = 2 }) {
  release();
  const analyzer = new Analyzer(options || undefined);
  let trapped = false;
  try {
    const inputs = [];
    const stopped = await read(id, analyzer, files, workers, inputs);
    const report = analyzer.finish();
    held = { id, report, model: modelOf(report), inputs };
    const whole = held.model.report.findings.length <= WHOLE_MAX && held.model.report.files.length <= WHOLE_MAX;
    const memory = exports.memory.buffer.byteLength;
    postMessage({ action: "report", id, whole, head: whole ? report.head() : held.model.head(), stopped, memory });
    if (whole) {
      for (const list of ["files", "findings", "risk_totals"]) {
        for (const data of items(report, list)) postMessage({ action: "part", id, list, data });
      }
    }
    postMessage({ action: "report-end", id });
  } catch (err) {
    trapped = err instanceof WebAssembly.RuntimeError;
    throw err;
  } finally {
    if (!trapped) analyzer.free();
  }
}

/**
 * Feeds `files` to `analyzer`; what stopped it early (its memory limit), or null. Adds to
 * `inputs` each file read: `{ name, size, sha256 }`, the hash made from the bytes as they
 * are read (null when this worker did not read them all, in order).
 */
async function read(id, analyzer, files, workers, inputs) {
  let reported = 0;
  for (const [index, file] of files.entries()) {
    analyzer.beginFile(file.name);
    const hash = inOrderHash();
    position = { file: file.name, bytes: 0, size: file.size, events: analyzer.eventsRead() };
    /** Bytes the other worker has read, counted in the progress shown. */
    let elsewhere = 0;
    const progress = (bytes) => {
      position.bytes = bytes;
      position.events = analyzer.eventsRead();
      if (performance.now() - reported >= PROGRESS_MS) {
        reported = performance.now();
        postMessage({ action: "progress", id, file: index, bytes: bytes + elsewhere, events: position.events });
      }
    };
    /** Reads `file` from `start` to `end` with `feed`, progress counting from `start`. */
    const readRange = (start, end, feed) => readFile(start === 0 && end === file.size ? file : file.slice(start, end), (chunk, bytes) => {
      hash.take(start + bytes - chunk.length, chunk);
      if (!feed(chunk)) throw STOP;
      progress(start + bytes);
    });
    let part = null;
    try {
      if (workers > 1 && file.size >= SPLIT_MIN_BYTES) {
        const head = new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
        hash.take(0, head);
        if (!analyzer.feedCounting(head)) throw STOP;
        progress(head.length);
        const cut = analyzer.splittable() ? await cutNearMiddle(file) : null;
        if (cut === null) {
          await readRange(HEAD_BYTES, file.size, (chunk) => analyzer.feed(chunk));
        } else {
          part = startPart(file, cut, head, (bytes) => { elsewhere = bytes; });
          await readRange(HEAD_BYTES, cut, (chunk) => analyzer.feedCounting(chunk));
          const absorbed = analyzer.isIdle();
          // A second worker that failed (no nested workers, out of memory) leaves the part to this one.
          const residue = absorbed ? await part.residue.catch(() => null) : null;
          if (residue) {
            if (!analyzer.absorb(residue)) throw STOP;
          } else {
            part.stop();
            elsewhere = 0;
            await readRange(cut, file.size, (chunk) => analyzer.feed(chunk));
          }
          postMessage({ action: "split", id, file: index, cut, absorbed: Boolean(residue) });
        }
      } else {
        await readRange(0, file.size, (chunk) => analyzer.feed(chunk));
      }
    } catch (err) {
      if (err !== STOP) throw err;
      part?.stop(); // the memory limit stops the second worker too
      analyzer.endFile();
      inputs.push({ name: file.name, size: file.size, sha256: null });
      return {
        limit: analyzer.memoryLimitBytes, memory: exports.memory.buffer.byteLength, events: analyzer.eventsRead(),
        file: index, bytes: position.bytes, unread: files.slice(index + 1).map((f) => f.name),
      };
    } finally {
      part?.stop();
    }
    analyzer.endFile();
    inputs.push({ name: file.name, size: file.size, sha256: hash.hex(file.size) });
    postMessage({ action: "progress", id, file: index, bytes: file.size, events: analyzer.eventsRead() });
  }
  return null;
}

/** A SHA-256 of the chunks given from offset 0 on, each where the last ended; a gap leaves it unknown. */
function inOrderHash() {
  let sha = new Sha256();
  return {
    take(offset, chunk) {
      if (sha && offset === sha.bytes) sha.update(chunk);
      else sha = null;
    },
    /** The hex digest, or null if the bytes taken were not the file's `size` bytes in order. */
    hex: (size) => (sha && sha.bytes === size ? sha.hex() : null),
  };
}

/** Just after the first newline past the middle of `file` that starts a record line, or null. */
async function cutNearMiddle(file) {
  const middle = Math.floor(file.size / 2);
  const window = new Uint8Array(await file.slice(middle, middle + CUT_WINDOW_BYTES).arrayBuffer());
  for (let at = window.indexOf(10); at !== -1 && at + 1 < window.length; at = window.indexOf(10, at + 1)) {
    const next = window[at + 1];
    const event = [60, 69, 118, 101, 110, 116].every((byte, i) => window[at + 1 + i] === byte); // "<Event"
    if (next === 123 || event) return middle + at + 1; // "{"
  }
  return null;
}

/** In the single file, this (classic) script's own Blob URL, made here from the Blob the page
 * sends ({action: "script"}): from file://, a worker may start a second one only from a Blob
 * URL of its own making. Else null, and the second worker is this module again. */
let ownScript = null;
// Trusted Types: a worker made from a Blob URL (the single file's) has the page's CSP, which
// requires them for script URLs; the only one this script makes is its own, for a second worker.
const partUrls = globalThis.trustedTypes?.createPolicy("sysmon-lens", {
  createScriptURL: (url) => {
    if (url !== import.meta.url && url !== ownScript) throw new TypeError(`not this worker's script: ${url}`);
    return url;
  },
});

/** A second worker reading `file` from `cut`: {residue: Promise<Uint8Array>, stop()}. */
function startPart(file, cut, head, onBytes) {
  const url = ownScript ?? import.meta.url;
  let worker;
  try {
    worker = new Worker(partUrls ? partUrls.createScriptURL(url) : url, { type: ownScript ? "classic" : "module", name: "part" });
  } catch (err) {
    const refused = Promise.reject(new Error(`the second worker failed: ${err.message}`));
    refused.catch(() => {});
    return { residue: refused, stop: () => {} };
  }
  const residue = new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data.progress !== undefined) onBytes(data.progress);
      if (data.residue) resolve(data.residue);
      if (data.error) reject(new Error(`the second worker failed: ${data.error}`));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`the second worker failed: ${event.message || "worker error"}`));
    };
  });
  residue.catch(() => {}); // awaited only when the part is taken
  compiled.then((module) => worker.postMessage({ module, file, cut, head }));
  return { residue, stop: () => worker.terminate() };
}

/** The "part" role: reads one part of a file into a residue and posts it back. */
function readPartOnRequest() {
  addEventListener("message", async ({ data: { module, file, cut, head } }) => {
    try {
      await init({ module_or_path: module });
      const reader = new PartReader(head);
      let reported = 0;
      await readFile(file.slice(cut), (chunk, bytes) => {
        reader.feed(chunk);
        if (performance.now() - reported >= PROGRESS_MS) {
          reported = performance.now();
          postMessage({ progress: bytes });
        }
      });
      const residue = reader.finish();
      postMessage({ residue }, [residue.buffer]);
    } catch (err) {
      postMessage({ error: String(err?.message ?? err) });
    }
  });
}

/** The JSON arrays of a list of the report, each of about PART_BYTES. */
function* items(report, list) {
  for (let start = 0; ;) {
    const [data, end] = report.items(list, start, PART_BYTES);
    if (end === start) return;
    yield data;
    start = end;
  }
}

/** Gathers strings into a Blob as they come, so no one string holds the whole export. */
function blobBuilder(type) {
  let blob = new Blob([], { type });
  let parts = [];
  let chars = 0;
  const fold = () => {
    blob = new Blob([blob, ...parts], { type });
    parts = [];
    chars = 0;
  };
  return {
    add(text) {
      parts.push(text);
      chars += text.length;
      if (chars >= BLOB_FOLD_CHARS) fold();
    },
    blob() {
      fold();
      return blob;
    },
  };
}

/** The report with its findings in brief, as JS objects, to answer the page's questions. */
function modelOf(report) {
  const whole = JSON.parse(report.head());
  const parsed = (list) => {
    const all = [];
    for (const data of items(report, list)) for (const item of JSON.parse(data)) all.push(item);
    return all;
  };
  return new ReportModel({ ...whole, files: parsed("files"), findings: parsed("finding_briefs"), risk_totals: parsed("risk_totals") },
    { suppress: (rules) => suppressionOf(report, rules) });
}

/** What `rules` suppress in `report`, as the core decides: `{ by, risk_totals }`. */
function suppressionOf(report, rules) {
  return JSON.parse(report.suppression(JSON.stringify(rules)));
}

/** The model's view, with the full findings of the row opened; the rows shown carry briefs (what the table shows). */
function view({ report, model }, query) {
  const data = model.view(query);
  if (data.opened) {
    const full = fullFindings({ report }, data.opened.members.map((member) => member.index));
    data.opened.members.forEach((member, i) => { member.finding = full[i]; });
  }
  return data;
}

/** The full findings of report indexes `indexes`, as a row's detail shows them. */
function fullFindings({ report }, indexes) {
  return JSON.parse(report.findingsAt(Uint32Array.from(indexes)));
}

function exportBlob({ report, model, inputs }, { format, query }) {
  const ruleOf = model.ruleOf(query);
  const isSuppressed = (index) => ruleOf[index] != null;
  const identities = model.identities();
  const caseAt = (index) => stateOf(query.cases, identities[index]);
  if (format === "json") return documentBlob(report, caseStateList(identities, query.cases));
  // The findings exported are those listed: without the suppressed ones, unless they are shown.
  if (format === "csv") {
    const indexes = model.indexes(query, (rule) => query.showSuppressed || !rule);
    return new Blob([withCaseColumns(report.findingsCsv(Uint32Array.from(indexes)), indexes, caseAt)], { type: "text/csv" });
  }
  if (format === "html") return htmlInputs(model, inputs, ruleOf, caseAt);
  if (format === "navigator") return new Blob([navigatorLayer(model.report, isSuppressed, caseAt, query.reading)], { type: "application/json" });
  throw new Error(`no export ${format}`);
}

/** The case state of the report's findings that have one: `[{ finding, identity, status, note }]`. */
function caseStateList(identities, cases) {
  const list = [];
  identities.forEach((identity, finding) => {
    if (cases?.[identity]) list.push({ finding, identity, ...stateOf(cases, identity) });
  });
  return list;
}

/**
 * The report exactly as the CLI prints it (`scan --format json`), built from parts, with
 * the analyst's case state as one more member, `case_state` (finding: its index in findings).
 */
function documentBlob(report, caseState) {
  const out = blobBuilder("application/json");
  const frame = report.documentFrame();
  frame.forEach((piece, i) => {
    if (i === frame.length - 1 && caseState.length) {
      const end = piece.lastIndexOf("}");
      return out.add(`${piece.slice(0, end)},"case_state":${JSON.stringify(caseState)}${piece.slice(end)}`);
    }
    if (i % 2 === 0) return out.add(piece);
    let first = true;
    for (const data of items(report, piece)) {
      if (!first) out.add(",");
      out.add(data.slice(1, -1)); // the items, without the brackets of their array
      first = false;
    }
  });
  out.add("\n");
  return out.blob();
}

/**
 * What the page needs to write the HTML report (exports.js), all but the full findings,
 * which it asks for a part at a time: the summary, the input files with their hashes, per
 * finding its suppressing rule (or null) and case state, and the risk totals.
 */
function htmlInputs(model, inputs, ruleOf, caseAt) {
  return {
    head: model.head(), inputs, findingCount: model.report.findings.length, ruleOf,
    cases: model.report.findings.map((_, index) => caseAt(index)), risk: model.riskTotals(ruleOf),
  };
}

/** A trap of the wasm instance, in words: memory that could not be had, or a bug the core's panic hook logged. */
function trapMessage(err) {
  const gib = (bytes) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  const where = position
    ? ` after reading ${position.events.toLocaleString("en")} events (in ${position.file}, ${gib(position.bytes)} of ${gib(position.size)})`
    : "";
  if (panicked) {
    return `The analysis stopped on an internal error${where}: ${panicked.split("\n")[0]} (${err.message}). Nothing of this analysis `
      + "could be kept. This is a bug in Sysmon Lens; the command-line tool (sysmon-lens scan) may still read the file.";
  }
  const memory = exports?.memory.buffer.byteLength ?? 0;
  return `The analysis stopped${where}: it ran out of memory. It held ${gib(memory)} of WebAssembly memory, and a wasm32 module `
    + "can address at most 4 GiB (the browser may grant less). Nothing of this analysis could be kept. "
    + "Split the file into smaller files and analyze each on its own (Clear between them), "
    + "or use the command-line tool (sysmon-lens scan), which has no such limit.";
}
