// A large log read by two workers (www/worker.js: this worker to a cut near the middle,
// a second one from there into a residue it absorbs) gives the report of one worker,
// byte for byte, for XML and JSON Lines; and the page itself, under its CSP, reads so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { chromiumArgs, cli, serve } from "./support.mjs";
import { measurePage } from "./measure.mjs";

const SIZE = "80M";

/** Analyzes `file` with the page's worker told to use `workers` workers: the JSON export, seconds, split messages. */
async function analyzeInWorker(browser, origin, file, workers) {
  const page = await browser.newPage();
  try {
    // A page of the same origin without the app (and its CSP), to drive the worker directly.
    await page.goto(`${origin}/no-such-page`);
    await page.evaluate(() => {
      const input = document.createElement("input");
      input.type = "file";
      input.id = "file";
      document.body.append(input);
    });
    await page.setInputFiles("#file", file);
    return await page.evaluate(async (workers) => {
      const worker = new Worker("/worker.js", { type: "module" });
      const messages = [];
      const next = (action) => new Promise((resolve, reject) => {
        worker.onmessage = ({ data }) => {
          messages.push(data);
          if (data.action === "error") reject(new Error(data.data));
          if (data.action === action) resolve(data);
        };
      });
      await next("ready");
      const started = performance.now();
      worker.postMessage({ action: "analyze", id: 1, files: [document.getElementById("file").files[0]], options: "", workers });
      await next("report-end");
      const seconds = (performance.now() - started) / 1000;
      worker.postMessage({ action: "export", id: 1, request: 1, format: "json", query: {} });
      const exported = await next("export");
      worker.terminate();
      return { json: await exported.data.text(), seconds, splits: messages.filter((m) => m.action === "split") };
    }, workers);
  } finally {
    await page.close();
  }
}

test(`generated ${SIZE} XML and JSON Lines logs: two workers give the one-worker report`, { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "sysmon-lens-workers-"));
  const server = await serve();
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: chromiumArgs });
  try {
    for (const shape of ["xml", "evtx-jsonl"]) {
      const log = path.join(dir, `generated.${shape}`);
      execFileSync(cli, ["generate", "--shape", shape, "--size", SIZE, "--seed", "1", "--out", log]);
      const one = await analyzeInWorker(browser, server.origin, log, 1);
      const two = await analyzeInWorker(browser, server.origin, log, 2);
      const mb = Number(SIZE.slice(0, -1)) * 1.048576;
      console.log(`# ${shape}: one worker ${one.seconds.toFixed(2)} s (${(mb / one.seconds).toFixed(0)} MB/s), two workers ${two.seconds.toFixed(2)} s (${(mb / two.seconds).toFixed(0)} MB/s)`);
      assert.deepEqual(one.splits, [], `${shape}: one worker reads alone`);
      assert.equal(two.splits.length, 1, `${shape}: the file was split`);
      assert.equal(two.splits[0].absorbed, true, `${shape}: the second worker's part was taken`);
      assert.ok(JSON.parse(one.json).findings.length > 0, `${shape}: the planted scenarios are found`);
      assert.ok(two.json === one.json, `${shape}: two workers give a different report`);
      if (shape === "xml") {
        // The page as a user opens it, under its CSP.
        const run = await measurePage(server.origin, log);
        assert.deepEqual(run.report, JSON.parse(one.json), "the page's report");
      }
    }
  } finally {
    await browser.close();
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
