// Runs one file through the page in a fresh headless Chromium and measures it:
// seconds from choosing the file to the rendered report, and the tab's memory.
// The browser names its renderer processes (CDP SystemInfo.getProcessInfo); the
// tab's renderer also runs the page's worker and its wasm. Its memory is read from
// the kernel every 50 ms while the page works: private memory (RssAnon, what the
// tab itself allocated: JS heaps, wasm memory, buffers) and resident memory with
// the shared Chromium libraries (VmHWM, the kernel's own high-water mark).
import { readFileSync, statSync } from "node:fs";
import { chromium } from "playwright-core";
import { chromiumArgs } from "./support.mjs";

/** A memory figure (KiB) from /proc/PID/status; 0 once the process is gone. */
function status(pid, field) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
    return line ? Number(line.split(/\s+/)[1]) : 0;
  } catch {
    return 0;
  }
}

/** Analyzes `file` in the page at `origin`; returns {seconds, bytes, report, peakPrivateMiB, peakResidentMiB, wasmMiB}. */
export async function measurePage(origin, file) {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: chromiumArgs });
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/index.html`);
    await page.waitForSelector("body[data-ready=true]");
    const cdp = await browser.newBrowserCDPSession();
    const { processInfo } = await cdp.send("SystemInfo.getProcessInfo");
    const renderers = processInfo.filter((p) => p.type === "renderer").map((p) => p.id);
    if (renderers.length === 0) throw new Error("the browser named no renderer process");
    let peakPrivateKiB = 0;
    const sampler = setInterval(() => {
      for (const pid of renderers) peakPrivateKiB = Math.max(peakPrivateKiB, status(pid, "RssAnon"));
    }, 50);
    const started = performance.now();
    await page.setInputFiles("#file", file);
    // Done, or an error shown on the page (which fails the run at once).
    const failed = page.waitForSelector("#progress .error", { timeout: 0 }).then(
      async (error) => `the page reported: ${await error.textContent()}`,
      () => new Promise(() => {}), // the browser closed first: never settles
    );
    const done = page.waitForSelector("body[data-state=done]", { timeout: 0 }).then(() => null);
    const problem = await Promise.race([done, failed]);
    if (problem) throw new Error(problem);
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    for (const pid of renderers) peakPrivateKiB = Math.max(peakPrivateKiB, status(pid, "RssAnon"));
    const peakResidentKiB = Math.max(...renderers.map((pid) => status(pid, "VmHWM")));
    // The report as a user takes it away: the JSON export.
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
    const report = JSON.parse(readFileSync(await download.path(), "utf8"));
    const wasmBytes = Number(await page.evaluate(() => document.body.dataset.wasmMemory));
    return {
      seconds,
      bytes: statSync(file).size,
      report,
      peakPrivateMiB: peakPrivateKiB / 1024,
      peakResidentMiB: peakResidentKiB / 1024,
      wasmMiB: wasmBytes / (1 << 20),
    };
  } finally {
    await browser.close();
  }
}
