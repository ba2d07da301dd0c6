// Times the page on files given on the command line: drop (file picker) to rendered
// report, in headless Chromium. Prints MB/s per file. Run after scripts/build.sh:
//   node e2e/bench.mjs FILE...
import { statSync } from "node:fs";
import { chromium } from "playwright-core";
import { serve, chromiumArgs } from "./support.mjs";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node e2e/bench.mjs FILE...");
  process.exit(2);
}
const server = await serve();
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: chromiumArgs });
try {
  for (const file of files) {
    const page = await browser.newPage();
    await page.goto(`${server.origin}/index.html`);
    await page.waitForSelector("body[data-ready=true]");
    const started = performance.now();
    await page.setInputFiles("#file", file);
    await page.waitForSelector("body[data-state=done]", { timeout: 0 });
    const seconds = (performance.now() - started) / 1000;
    const bytes = statSync(file).size;
    console.log(`${file}: ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s = ${(bytes / 1e6 / seconds).toFixed(1)} MB/s in the page`);
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}
