// Reads a File (or Blob) chunk by chunk for the worker: File.stream() with a BYOB reader
// into two reused buffers, the next chunk read while the caller takes the current one,
// so the browser reads at most one chunk ahead and no chunk is left for the garbage
// collector.

const CHUNK_BYTES = 1 << 20;
const STALL_MS = 10_000;
const STALLED = Symbol("stalled");

/** Calls `take(chunk, bytesSoFar)` for each chunk of `file`, read into two reused buffers.
 * A read the browser leaves pending for `stallMs` (seen now and then on files over 4 GiB)
 * is abandoned, and reading goes on from the same offset with a new stream. */
export async function readFile(file, take, stallMs = STALL_MS) {
  let offset = 0;
  let spare = new ArrayBuffer(CHUNK_BYTES);
  let reader = file.stream().getReader({ mode: "byob" });
  let pending = reader.read(new Uint8Array(new ArrayBuffer(CHUNK_BYTES)));
  for (;;) {
    let timer;
    const stalled = new Promise((resolve) => { timer = setTimeout(() => resolve(STALLED), stallMs); });
    const result = await Promise.race([pending, stalled]);
    clearTimeout(timer);
    if (result === STALLED) {
      reader.cancel().catch(() => {}); // the abandoned reads keep their buffers
      spare = new ArrayBuffer(CHUNK_BYTES);
      reader = file.slice(offset).stream().getReader({ mode: "byob" });
      pending = reader.read(new Uint8Array(new ArrayBuffer(CHUNK_BYTES)));
      continue;
    }
    if (result.done) return;
    // The next read runs in the browser while the caller takes this chunk.
    pending = reader.read(new Uint8Array(spare));
    offset += result.value.length;
    try {
      take(result.value, offset);
    } catch (err) {
      reader.cancel().catch(() => {}); // the read ahead is not wanted
      throw err;
    }
    spare = result.value.buffer;
  }
}
