// The worker's file reader (www/read-file.js) under Node, with a file whose stream
// behaves like Chromium's did on a 4 GiB file: one read that never completes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "../www/read-file.js";

/** A Blob-like file over `bytes` whose first stream hangs for good at `stallAt`. */
function fileStallingOnce(bytes, stallAt) {
  let streams = 0;
  const file = {
    size: bytes.length,
    slice: (start) => ({ stream: () => byteStream(bytes.subarray(start), null) }),
    stream: () => byteStream(bytes, stallAt),
  };
  function byteStream(data, hangAt) {
    streams += 1;
    let at = 0;
    return new ReadableStream({
      type: "bytes",
      pull(controller) {
        if (hangAt !== null && at >= hangAt) return new Promise(() => {});
        const view = controller.byobRequest.view;
        const n = Math.min(view.byteLength, data.length - at, 100_000);
        if (n === 0) {
          controller.close();
          controller.byobRequest.respond(0);
          return;
        }
        view.set(data.subarray(at, at + n));
        at += n;
        controller.byobRequest.respond(n);
      },
    });
  }
  return { file, streams: () => streams };
}

test("a read left pending resumes at the same offset on a new stream: no byte lost or repeated", async () => {
  const bytes = new Uint8Array(3_000_000).map((_, i) => (i * 7919) % 251);
  const { file, streams } = fileStallingOnce(bytes, 1_200_000);
  const seen = [];
  const offsets = [];
  await readFile(file, (chunk, offset) => {
    seen.push(chunk.slice());
    offsets.push(offset);
  }, 50);
  const joined = new Uint8Array(seen.reduce((n, c) => n + c.length, 0));
  seen.reduce((at, c) => (joined.set(c, at), at + c.length), 0);
  assert.equal(streams(), 2, "the stalled stream was replaced once");
  assert.deepEqual(joined, bytes);
  assert.equal(offsets.at(-1), bytes.length);
});

test("a file that never stalls is read in one stream", async () => {
  const bytes = new Uint8Array(2_500_000).fill(65);
  const { file, streams } = fileStallingOnce(bytes, null);
  let total = 0;
  await readFile(file, (chunk) => { total += chunk.length; }, 50);
  assert.equal(total, bytes.length);
  assert.equal(streams(), 1);
});
