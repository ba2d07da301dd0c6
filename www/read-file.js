// Reads a File (or Blob) chunk by chunk for the worker: File.stream() with a BYOB reader
// into one reused buffer, so the browser reads no further ahead than the caller has
// taken and no chunk is left for the garbage collector.

const CHUNK_BYTES = 1 << 20;
const STALL_MS = 10_000;
const STALLED = Symbol("stalled");

/** Calls `take(chunk, bytesSoFar)` for each chunk of `file`, read into one reused buffer.
 * A read the browser leaves pending for `stallMs` (seen now and then on files over 4 GiB)
 * is abandoned, and reading goes on from the same offset with a new stream. */
export async function readFile(file, take, stallMs = STALL_MS) {
  let offset = 0;
  let buffer = new ArrayBuffer(CHUNK_BYTES);
  let reader = file.stream().getReader({ mode: "byob" });
  for (;;) {
    let timer;
    const stalled = new Promise((resolve) => { timer = setTimeout(() => resolve(STALLED), stallMs); });
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
